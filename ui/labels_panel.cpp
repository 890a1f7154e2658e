#include "ui/labels_panel.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPainter>
#include <QPixmap>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace parallax::ui {

Color3 labelColour(const LabelTable* table, int32_t label) {
  if (table)
    if (const LabelClass* c = table->find(label)) return c->color;
  static const Color3 palette[] = {{230, 25, 75},  {60, 180, 75},  {255, 225, 25}, {0, 130, 200},
                                   {245, 130, 48}, {145, 30, 180}, {70, 240, 240}, {240, 50, 230},
                                   {210, 245, 60}, {250, 190, 212}, {0, 128, 128}, {170, 110, 40}};
  return label < 0 ? Color3{128, 128, 128} : palette[size_t(label) % std::size(palette)];
}

LabelsPanel::LabelsPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  header_ = new QLabel("No labels yet: run the Segment stage (Reconstruct runs it).", this);
  header_->setWordWrap(true);
  list_ = new QTreeWidget(this);
  list_->setObjectName("labelList");
  list_->setColumnCount(2);
  list_->setHeaderLabels({"Class", "Points"});
  list_->setRootIsDecorated(false);
  list_->header()->setSectionResizeMode(0, QHeaderView::Stretch);
  auto* buttons = new QHBoxLayout;
  select_ = new QPushButton("Select class", this);
  select_->setObjectName("selectLabel");
  select_->setToolTip("Select every shown point and mesh face of the highlighted class (then Delete or Crop)");
  auto* colour = new QPushButton("Colour by label", this);
  colour->setObjectName("colourByLabel");
  buttons->addWidget(select_);
  buttons->addWidget(colour);
  layout->addWidget(header_);
  layout->addWidget(list_, 1);
  layout->addLayout(buttons);
  connect(select_, &QPushButton::clicked, this, [this] {
    if (QTreeWidgetItem* it = list_->currentItem()) emit selectRequested(it->data(0, Qt::UserRole).toInt());
  });
  connect(list_, &QTreeWidget::itemDoubleClicked, this,
          [this](QTreeWidgetItem* it) { emit selectRequested(it->data(0, Qt::UserRole).toInt()); });
  connect(colour, &QPushButton::clicked, this, &LabelsPanel::colourByLabelRequested);
  connect(list_, &QTreeWidget::itemChanged, this, [this](QTreeWidgetItem* it, int column) {
    if (filling_ || column != 0) return;
    const int32_t label = it->data(0, Qt::UserRole).toInt();
    const bool hidden = it->checkState(0) != Qt::Checked;
    if (hidden == bool(hidden_.count(label))) return;
    if (hidden) hidden_.insert(label);
    else hidden_.erase(label);
    emit hiddenChanged(hidden_);
  });
}

void LabelsPanel::setLabels(const LabelTable& table, const std::vector<size_t>& counts) {
  filling_ = true;
  list_->clear();
  if (table.classes.empty()) {
    header_->setText("No labels yet: run the Segment stage (Reconstruct runs it).");
    hidden_.clear();
  } else {
    header_->setText("Labels by " + QString::fromStdString(table.method) +
                     ". Untick a class to hide it; double-click to select it.");
  }
  for (const LabelClass& c : table.classes) {
    const size_t n = size_t(c.id) < counts.size() && c.id >= 0 ? counts[size_t(c.id)] : 0;
    auto* it = new QTreeWidgetItem(list_);
    QPixmap swatch(14, 14);
    swatch.fill(QColor(c.color[0], c.color[1], c.color[2]));
    it->setIcon(0, QIcon(swatch));
    it->setText(0, QString::fromStdString(c.name));
    it->setText(1, QLocale(QLocale::English).toString(qulonglong(n)));
    it->setData(0, Qt::UserRole, c.id);
    it->setFlags(it->flags() | Qt::ItemIsUserCheckable);
    it->setCheckState(0, hidden_.count(c.id) ? Qt::Unchecked : Qt::Checked);
    if (n == 0) it->setForeground(0, QBrush(Qt::gray));
  }
  select_->setEnabled(!table.classes.empty());
  filling_ = false;
}

void LabelsPanel::setHidden(int32_t label, bool hidden) {
  for (int i = 0; i < list_->topLevelItemCount(); ++i) {
    QTreeWidgetItem* it = list_->topLevelItem(i);
    if (it->data(0, Qt::UserRole).toInt() == label) it->setCheckState(0, hidden ? Qt::Unchecked : Qt::Checked);
  }
}

int LabelsPanel::rows() const { return list_->topLevelItemCount(); }

QString LabelsPanel::rowText(int row) const {
  const QTreeWidgetItem* it = list_->topLevelItem(row);
  return it ? it->text(0) + ": " + it->text(1) : QString();
}

}  // namespace parallax::ui
