// The "Labels" panel: the segment stage's classes as a legend (colour, name, how many
// points and mesh vertices carry each), a box per class that shows or hides it in
// the viewport, and a button that selects every shown point and face of a class (so
// that Delete and Crop act on it).
#pragma once

#include <QWidget>
#include <set>

#include "scene/labels.h"

class QTreeWidget;
class QLabel;
class QPushButton;

namespace parallax::ui {

class LabelsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit LabelsPanel(QWidget* parent = nullptr);
  // The classes, with counts of the shown elements (points + mesh vertices) per class.
  void setLabels(const LabelTable& table, const std::vector<size_t>& counts);
  const std::set<int32_t>& hiddenLabels() const { return hidden_; }
  void setHidden(int32_t label, bool hidden);  // as ticking its box does
  int rows() const;
  QString rowText(int row) const;  // "wall: 12,345" (tests)

 signals:
  void hiddenChanged(const std::set<int32_t>& hidden);
  void selectRequested(int32_t label);
  void colourByLabelRequested();

 private:
  QTreeWidget* list_;
  QLabel* header_;
  QPushButton* select_;
  std::set<int32_t> hidden_;
  bool filling_ = false;
};

// A class's colour in the viewport: its table colour, or a fixed palette by id.
Color3 labelColour(const LabelTable* table, int32_t label);

}  // namespace parallax::ui
