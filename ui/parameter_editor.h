// Right panel: the selected stage's parameters as a form generated from the
// schema (a checkbox, spin box, choice or text field per parameter, its range
// and help as tooltip), plus the stage's state and why it is stale.
#pragma once

#include <QAbstractSpinBox>
#include <QComboBox>
#include <QFormLayout>
#include <QLabel>
#include <QWidget>
#include <functional>
#include <nlohmann/json.hpp>

#include "scene/workspace.h"

namespace parallax::ui {

class ParameterEditor : public QWidget {
  Q_OBJECT
 public:
  explicit ParameterEditor(QWidget* parent = nullptr);
  // The workspace is owned by the main window; nullptr disables the editor.
  void setWorkspace(Workspace* ws);
  QString currentStage() const;
  void selectStage(const QString& stage);
  void refreshState();

 signals:
  // A parameter was changed to a valid value (already stored in the workspace).
  void parameterChanged(const QString& stage, const QString& param);
  void runStageRequested(const QString& stage);

 private:
  void rebuildForm();
  void setValue(const std::string& param, const nlohmann::json& value);
  // Says in red when the number typed in `box` is out of `range`.
  void watchTypedRange(QAbstractSpinBox* box, const std::string& param, const std::string& range,
                       std::function<QString()> typed);

  Workspace* ws_ = nullptr;
  QComboBox* stageBox_;
  QLabel* help_;
  QLabel* state_;
  QLabel* error_;
  QWidget* formHost_;
  QFormLayout* form_ = nullptr;
};

}  // namespace parallax::ui
