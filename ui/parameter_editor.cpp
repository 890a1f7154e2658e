#include "ui/parameter_editor.h"

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QLineEdit>
#include <QSpinBox>
#include <QValidator>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "pipeline/runner.h"
#include "pipeline/schema.h"
#include "util/error.h"

using nlohmann::json;

namespace parallax::ui {

namespace {

// A spin box that keeps a number typed out of its range on screen (Qt's drops the
// keystroke, so "50" in a box that stops at 20 silently reads "5"): the editor then
// says what is wrong. A value is taken when typing ends (Enter, leaving the box), not
// per keystroke, so "100" in a box that stops at 64 never sets 1 or 10 on the way: out
// of range, the box goes back to the value it had and the message stays to say why.
template <class Base>
class TypedSpinBox : public Base {
 public:
  using Base::Base;
  QValidator::State validate(QString& text, int& pos) const override {
    const QValidator::State state = Base::validate(text, pos);
    if (state != QValidator::Invalid) return state;
    bool number = false;
    this->locale().toDouble(typedNumber(text), &number);
    return number ? QValidator::Intermediate : QValidator::Invalid;
  }
  QString typedNumber(QString text) const {
    if (!this->suffix().isEmpty() && text.endsWith(this->suffix())) text.chop(this->suffix().size());
    return text.trimmed();
  }
};

}  // namespace

ParameterEditor::ParameterEditor(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  stageBox_ = new QComboBox(this);
  stageBox_->setObjectName("stageBox");
  for (const auto& s : Schema::instance().stages())
    stageBox_->addItem(QString::fromStdString(s.label), QString::fromStdString(s.name));
  help_ = new QLabel(this);
  help_->setWordWrap(true);
  state_ = new QLabel(this);
  state_->setObjectName("stageState");
  state_->setWordWrap(true);
  error_ = new QLabel(this);
  error_->setObjectName("paramError");
  error_->setWordWrap(true);
  error_->setStyleSheet("color: #c0392b");
  formHost_ = new QWidget(this);
  auto* reset = new QPushButton("Reset to defaults", this);
  auto* run = new QPushButton("Run this stage", this);
  run->setObjectName("runStage");
  layout->addWidget(stageBox_);
  layout->addWidget(help_);
  layout->addWidget(state_);
  layout->addWidget(formHost_);
  layout->addWidget(error_);
  layout->addWidget(reset);
  layout->addWidget(run);
  layout->addStretch(1);
  connect(stageBox_, &QComboBox::currentIndexChanged, this, [this] { rebuildForm(); });
  connect(reset, &QPushButton::clicked, this, [this] {
    if (!ws_) return;
    const std::string stage = currentStage().toStdString();
    for (const auto& p : Schema::instance().requireStage(stage).params)
      ws_->clearParamOverride(stage, p.name);
    rebuildForm();
    emit parameterChanged(currentStage(), {});
  });
  connect(run, &QPushButton::clicked, this, [this] { emit runStageRequested(currentStage()); });
  setWorkspace(nullptr);
}

void ParameterEditor::setWorkspace(Workspace* ws) {
  ws_ = ws;
  setEnabled(ws_ != nullptr);
  rebuildForm();
}

QString ParameterEditor::currentStage() const { return stageBox_->currentData().toString(); }

void ParameterEditor::selectStage(const QString& stage) {
  int i = stageBox_->findData(stage);
  if (i >= 0) stageBox_->setCurrentIndex(i);
}

void ParameterEditor::refreshState() {
  if (!ws_) {
    state_->setText("Open or create a project to edit parameters.");
    return;
  }
  StageState st = stageState(*ws_, currentStage().toStdString());
  state_->setText(
      "State: " + QString::fromStdString(st.status) +
      (st.stale ? " — will run (" + QString::fromStdString(st.reason) + ")" : " — up to date"));
}

void ParameterEditor::setValue(const std::string& param, const json& value) {
  const std::string stage = currentStage().toStdString();
  try {
    json valid = Schema::instance().validate(stage, param, value);
    const auto* schema = Schema::instance().requireStage(stage).param(param);
    if (valid == schema->default_value)
      ws_->clearParamOverride(stage, param);
    else
      ws_->setParamOverride(stage, param, valid);
    error_->clear();
    emit parameterChanged(currentStage(), QString::fromStdString(param));
  } catch (const Error& e) {
    error_->setText(QString::fromStdString(e.what()));
  }
  refreshState();
}

void ParameterEditor::watchTypedRange(QAbstractSpinBox* box, const std::string& param,
                                      const std::string& range, std::function<QString()> typed) {
  auto* line = box->findChild<QLineEdit*>();
  if (!line) return;
  box->setKeyboardTracking(false);
  connect(line, &QLineEdit::textChanged, this, [this, box, param, range, typed] {
    const QString message = QString::fromStdString(param) + " = " + typed() + " is out of range " +
                            QString::fromStdString(range) + "; the value stays as it was";
    if (!box->hasAcceptableInput()) error_->setText(message);
  });
  // A number in range typed clears it (textEdited: keystrokes, not the box going back).
  connect(line, &QLineEdit::textEdited, this, [this, box, param] {
    if (box->hasAcceptableInput() && error_->text().startsWith(QString::fromStdString(param) + " = ")) error_->clear();
  });
}

void ParameterEditor::rebuildForm() {
  delete formHost_->layout();
  for (QWidget* w : formHost_->findChildren<QWidget*>(QString(), Qt::FindDirectChildrenOnly))
    w->deleteLater();
  form_ = new QFormLayout(formHost_);
  error_->clear();  // said of the form being replaced (another stage, values reset)
  const StageSchema* stage = Schema::instance().stage(currentStage().toStdString());
  if (!stage) return;
  help_->setText(QString::fromStdString(stage->help));
  json values = stage->defaults();
  if (ws_) {
    try {
      values = effectiveParams(*ws_, stage->name);
    } catch (const Error& e) {
      error_->setText(QString::fromStdString(e.what()));
    }
  }
  for (const auto& p : stage->params) {
    const std::string name = p.name;
    const json value = values.value(name, p.default_value);
    QWidget* editor = nullptr;
    switch (p.type) {
      case ParamType::kBool: {
        auto* box = new QCheckBox(formHost_);
        box->setChecked(value.get<bool>());
        connect(box, &QCheckBox::toggled, this, [this, name](bool v) { setValue(name, v); });
        editor = box;
        break;
      }
      case ParamType::kInt: {
        auto* spin = new TypedSpinBox<QSpinBox>(formHost_);
        spin->setRange(p.min ? int(std::max(*p.min, -2e9)) : -2000000000,
                       p.max ? int(std::min(*p.max, 2e9)) : 2000000000);
        spin->setValue(int(value.get<long long>()));
        spin->setSuffix(p.unit.empty() ? "" : " " + QString::fromStdString(p.unit));
        connect(spin, &QSpinBox::valueChanged, this, [this, name](int v) { setValue(name, v); });
        watchTypedRange(spin, name, p.rangeText(), [spin] { return spin->typedNumber(spin->text()); });
        editor = spin;
        break;
      }
      case ParamType::kFloat: {
        auto* spin = new TypedSpinBox<QDoubleSpinBox>(formHost_);
        spin->setDecimals(4);
        spin->setRange(p.min ? *p.min : -1e12, p.max ? *p.max : 1e12);
        spin->setValue(value.get<double>());
        spin->setSuffix(p.unit.empty() ? "" : " " + QString::fromStdString(p.unit));
        connect(spin, &QDoubleSpinBox::valueChanged, this,
                [this, name](double v) { setValue(name, v); });
        watchTypedRange(spin, name, p.rangeText(), [spin] { return spin->typedNumber(spin->text()); });
        editor = spin;
        break;
      }
      case ParamType::kEnum: {
        auto* combo = new QComboBox(formHost_);
        for (const auto& c : p.choices) combo->addItem(QString::fromStdString(c));
        combo->setCurrentText(QString::fromStdString(value.get<std::string>()));
        connect(combo, &QComboBox::currentTextChanged, this,
                [this, name](const QString& v) { setValue(name, v.toStdString()); });
        editor = combo;
        break;
      }
      case ParamType::kString:
      case ParamType::kPath: {
        auto* line = new QLineEdit(QString::fromStdString(value.get<std::string>()), formHost_);
        connect(line, &QLineEdit::editingFinished, this,
                [this, name, line] { setValue(name, line->text().toStdString()); });
        editor = line;
        break;
      }
    }
    editor->setObjectName(QString::fromStdString(stage->name + "." + name));
    editor->setToolTip(QString::fromStdString(p.help + "\nAllowed: " + p.rangeText() +
                                              "\nDefault: " + p.default_value.dump()));
    form_->addRow(QString::fromStdString(name), editor);
  }
  refreshState();
}

}  // namespace parallax::ui
