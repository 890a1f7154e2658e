#include "ui/cleaning_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QTimer>
#include <algorithm>
#include <cmath>

namespace parallax::ui {

CleaningDialog::CleaningDialog(Mode mode, Actions actions, QWidget* parent)
    : QDialog(parent), mode_(mode), actions_(std::move(actions)) {
  const bool sparseFilter = mode == kSparseFilter;
  setObjectName(sparseFilter ? "sparseFilterDialog" : "outlierDialog");
  setWindowTitle(sparseFilter ? "Filter sparse points" : "Remove outliers");
  auto* form = new QFormLayout(this);
  method_ = new QComboBox(this);
  method_->setObjectName("method");
  first_ = new QSpinBox(this);
  second_ = new QDoubleSpinBox(this);
  first_->setObjectName("first");
  second_->setObjectName("second");
  firstLabel_ = new QLabel(this);
  secondLabel_ = new QLabel(this);
  if (!sparseFilter) {
    method_->addItems({"Statistical: far from its neighbours", "Radius: too few neighbours within a radius"});
    form->addRow("Method", method_);
  } else {
    method_->hide();  // one test each, no method to choose
  }
  setMethod(0);
  form->addRow(firstLabel_, first_);
  form->addRow(secondLabel_, second_);
  count_ = new QLabel(this);
  count_->setObjectName("previewCount");
  form->addRow(count_);
  // Typing a value changes it digit by digit: preview once it rests.
  settle_ = new QTimer(this);
  settle_->setObjectName("previewTimer");
  settle_->setSingleShot(true);
  settle_->setInterval(250);
  connect(settle_, &QTimer::timeout, this, &CleaningDialog::preview);
  auto later = [this] {
    count_->setText("…");
    settle_->start();
  };
  connect(method_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this, later](int m) {
    setMethod(m);
    later();
  });
  // Text typed out of range leaves the value as it was: said at once, Remove disabled.
  // (The spin boxes signal only acceptable text: their editors are watched instead.)
  for (QAbstractSpinBox* box : {static_cast<QAbstractSpinBox*>(first_), static_cast<QAbstractSpinBox*>(second_)})
    connect(box->findChild<QLineEdit*>(), &QLineEdit::textChanged, this, later);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
  remove_ = buttons->addButton("Remove", QDialogButtonBox::AcceptRole);
  remove_->setObjectName("removeButton");
  form->addRow(buttons);
  connect(buttons, &QDialogButtonBox::rejected, this, [this] {
    actions_.cancel();
    reject();
  });
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    settle_->stop();
    if (!typedProblem().isEmpty()) return;  // (Enter in a box with a bad value)
    actions_.apply(step());
    accept();
  });
  preview();
}

CleanStep CleaningDialog::step() const {
  if (mode_ == kSparseFilter) return CleanStep::sparseFilter(first_->value(), second_->value());
  if (method_->currentIndex() == 0) return CleanStep::statisticalOutliers(first_->value(), second_->value());
  return CleanStep::radiusOutliers(second_->value(), first_->value());
}

QString CleaningDialog::typedProblem() const {
  auto range = [](const QLabel* label, const QAbstractSpinBox* box, double lo, double hi) {
    return QString("%1: '%2' is not a value from %3 to %4").arg(label->text(), box->text()).arg(lo).arg(hi);
  };
  if (!first_->hasAcceptableInput()) return range(firstLabel_, first_, first_->minimum(), first_->maximum());
  if (!second_->hasAcceptableInput()) return range(secondLabel_, second_, second_->minimum(), second_->maximum());
  return {};
}

void CleaningDialog::preview() {
  const CleanStep s = step();
  QString problem = typedProblem();
  if (problem.isEmpty())
    if (auto p = s.problem()) problem = QString::fromStdString(*p);
  remove_->setEnabled(problem.isEmpty());
  count_->setStyleSheet(problem.isEmpty() ? QString() : QString("color: #c62828; font-weight: bold"));
  if (!problem.isEmpty()) {
    count_->setText(problem);
    actions_.cancel();  // no preview of values not shown
    return;
  }
  const size_t n = actions_.preview(s);
  count_->setText(QLocale(QLocale::English).toString(qulonglong(n)) + " would be removed (shown in red)");
}

void CleaningDialog::setMethod(int m) {
  const QSignalBlocker b1(first_), b2(second_);
  if (mode_ == kSparseFilter) {
    first_->setRange(0, 100);
    first_->setValue(3);
    second_->setRange(0, 100);
    second_->setDecimals(2);
    second_->setValue(2.0);
    second_->setSuffix(" px");
    firstLabel_->setText("Seen by fewer than (photos, 0 = off)");
    secondLabel_->setText("Reprojection error above (0 = off)");
  } else if (m == 0) {
    first_->setRange(2, 200);
    first_->setValue(20);
    second_->setRange(0.5, 20);
    second_->setDecimals(2);
    second_->setSingleStep(0.1);
    second_->setValue(2.0);
    second_->setSuffix("");
    firstLabel_->setText("Neighbours");
    secondLabel_->setText("Distance factor (x the neighbours')");
  } else {
    first_->setRange(1, 500);
    first_->setValue(6);
    const double spacing = actions_.pointSpacing();
    // Decimals enough for a tenth of the spacing.
    const int decimals = std::clamp(int(std::ceil(-std::log10(spacing / 10))), 2, 8);
    second_->setDecimals(decimals);
    second_->setRange(spacing / 10, spacing * 1000);
    second_->setSingleStep(spacing);
    second_->setValue(5 * spacing);
    second_->setSuffix(" units");
    firstLabel_->setText("At least this many neighbours");
    secondLabel_->setText(QString("Within radius (point spacing %1)").arg(spacing, 0, 'g', 3));
  }
}

}  // namespace parallax::ui
