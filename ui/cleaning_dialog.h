// Edit > Remove Outliers… and Edit > Filter Sparse Points…: the values of one cleaning
// step (surface/clean_workflow.h) with a live preview. What would go is selected
// (red) while the dialog is open, recomputed a moment after the values stop
// changing; Remove makes it an edit, Cancel clears the preview.
#pragma once

#include <QDialog>
#include <functional>

#include "surface/clean_workflow.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QTimer;

namespace parallax::ui {

class CleaningDialog : public QDialog {
 public:
  enum Mode { kOutliers, kSparseFilter };
  struct Actions {
    std::function<size_t(const CleanStep&)> preview;  // selects what would go; how many
    std::function<void(const CleanStep&)> apply;      // makes it an edit
    std::function<void()> cancel;                     // clears the preview
    std::function<double()> pointSpacing;             // scales the radius (scene units)
  };
  CleaningDialog(Mode mode, Actions actions, QWidget* parent);
  // The step the values describe.
  CleanStep step() const;

 private:
  void setMethod(int method);
  void preview();
  // A message naming a value typed out of its range, or empty.
  QString typedProblem() const;

  Mode mode_;
  Actions actions_;
  QComboBox* method_;
  QSpinBox* first_;
  QDoubleSpinBox* second_;
  QLabel* firstLabel_;
  QLabel* secondLabel_;
  QLabel* count_;
  QPushButton* remove_;
  QTimer* settle_;
};

}  // namespace parallax::ui
