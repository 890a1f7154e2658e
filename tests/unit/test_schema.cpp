// pipeline/schema: validation messages name the parameter, the value and what is allowed.
#include <QtTest>

#include "params/stages.h"
#include "pipeline/methods.h"
#include "pipeline/schema.h"
#include "plugin/plugin_manager.h"
#include "test_support.h"
#include "util/error.h"

using namespace parallax;
using nlohmann::json;

namespace {}  // namespace

class TestSchema : public QObject {
  Q_OBJECT
 private slots:
  void builtinStagesAreDeclaredWithValidDefaults() {
    const Schema& s = Schema::instance();
    QVERIFY(s.stage("import"));
    QVERIFY(s.stage("ground_truth"));
    QCOMPARE(s.stage("ground_truth")->after, std::vector<std::string>{"import"});
    for (const auto& stage : s.stages())
      for (const auto& p : stage.params) {
        QVERIFY2(!p.help.empty(),
                 qPrintable(QString::fromStdString(stage.name + "." + p.name + " has no help")));
        // A stage whose methods all come from plugins has no default method without them.
        if (p.name == stage.method_param && p.default_value == "" && stage.classical.empty()) continue;
        s.validate(stage.name, p.name, p.default_value);
      }
  }

  void unknownStageAndParameter() {
    QString msg = test::errorOf([] { Schema::instance().validate("imprt", "recursive", true); });
    QVERIFY2(msg.contains("unknown stage 'imprt'") && msg.contains("import"), qPrintable(msg));
    msg = test::errorOf([] { Schema::instance().validate("import", "recursiv", true); });
    QVERIFY2(msg.contains("unknown parameter 'import.recursiv'") && msg.contains("recursive"),
             qPrintable(msg));
  }

  void outOfRangeNamesValueAndRange() {
    QString msg =
        test::errorOf([] { Schema::instance().validate("import", "default_focal_factor", 42.0); });
    QVERIFY2(msg.contains("import.default_focal_factor = 42") && msg.contains("out of range") &&
                 msg.contains("[0.2, 5]"),
             qPrintable(msg));
  }

  void wrongTypes() {
    QVERIFY(test::errorOf([] {
              Schema::instance().validate("import", "recursive", "maybe");
            }).contains("not a boolean"));
    QVERIFY(test::errorOf([] {
              Schema::instance().validate("ground_truth", "max_points", 1.5);
            }).contains("whole number"));
    QVERIFY(test::errorOf([] {
              Schema::instance().validate("import", "camera_model", "FISHEYE42");
            }).contains("one of"));
    QCOMPARE(Schema::instance().validate("ground_truth", "max_points", 10.0), json(10));
  }

  void cliAssignmentsAreParsedByType() {
    auto a = Schema::instance().parseAssignment("import.single_camera=true");
    QCOMPARE(a.value, json(true));
    a = Schema::instance().parseAssignment("import.default_focal_factor=0.9");
    QCOMPARE(a.value.get<double>(), 0.9);
    a = Schema::instance().parseAssignment("import.camera_model=PINHOLE");
    QCOMPARE(a.value, json("PINHOLE"));
    QVERIFY(test::errorOf([] {
              Schema::instance().parseAssignment("import.single_camera");
            }).contains("stage.param=value"));
    QVERIFY(test::errorOf([] {
              Schema::instance().parseAssignment("import.default_focal_factor=abc");
            }).contains("not a number"));
    QVERIFY(test::errorOf([] {
              Schema::instance().parseAssignment("import.default_focal_factor=-1");
            }).contains("out of range"));
  }

  // Every parameter's default is written once, in its declaration: the typed struct
  // generated from it (core's and each loaded plugin's) starts from the same value.
  void everyParameterHasATypedStructWithItsDeclaredDefault() {
    PluginManager::instance().loadDefault();
    int checked = 0, total = 0, stageDefaults = 0;
    for (const auto& stage : Schema::instance().stages())
      for (const auto& p : stage.params) {
        const std::string name = stage.name + "." + p.name;
        ++total;
        QVERIFY2(!p.struct_default.is_null(), qPrintable(QString::fromStdString(name + " has no generated struct")));
        if (p.name == stage.method_param && p.default_value != p.struct_default) {
          // A plugin's method made itself the stage's default (field.nerf).
          const MethodSchema* m = stage.method(p.default_value.get<std::string>());
          QVERIFY2(m && m->stage_default, qPrintable(QString::fromStdString(name)));
          ++stageDefaults;
          continue;
        }
        QVERIFY2(p.struct_default == p.default_value,
                 qPrintable(QString::fromStdString(name + ": struct " + p.struct_default.dump() +
                                                   ", declared " + p.default_value.dump())));
        ++checked;
      }
    QCOMPARE(checked + stageDefaults, total);
    QVERIFY(total >= 99);  // core's stages alone declare 99
  }

  void typedStructsReadEffectiveValuesAndCheckRanges() {
    json values = Schema::instance().requireStage("import").defaults();
    values["default_focal_factor"] = 0.9;
    values["camera_model"] = "PINHOLE";
    const params::Import p = params::Import::from(values);
    QCOMPARE(p.default_focal_factor, 0.9);
    QCOMPARE(p.camera_model, std::string("PINHOLE"));
    QCOMPARE(p.recursive, true);
    QCOMPARE(p.toJson(), values);
    p.check();
    params::Import bad = p;
    bad.default_focal_factor = 42;
    QString msg = test::errorOf([&] { bad.check(); });
    QVERIFY2(msg.contains("import.default_focal_factor = 42 is out of range") && msg.contains("[0.2, 5]"),
             qPrintable(msg));
    bad = p;
    bad.camera_model = "FISHEYE42";
    msg = test::errorOf([&] { bad.check(); });
    QVERIFY2(msg.contains("import.camera_model = FISHEYE42") && msg.contains("PINHOLE"), qPrintable(msg));
    // Values without a declared parameter are an error, not a silent default.
    values.erase("recursive");
    msg = test::errorOf([&] { params::Import::from(values); });
    QVERIFY2(msg.contains("import.recursive is missing"), qPrintable(msg));
  }

  // The one fallback rule: a method a plugin declares joins its stage's choices; when it
  // cannot run, the stage's classical method runs with a warning naming what is missing.
  void unusableMethodFallsBackToClassicalNamingWhy() {
    Schema::instance().addMethods(json::parse(R"({"methods": [
      {"stage": "features", "name": "testfeat", "label": "TestFeat", "help": "a test method.",
       "params": [{"name": "testfeat_level", "type": "int", "default": 3, "min": 1, "max": 9, "help": "h"}]},
      {"stage": "features", "name": "ghostfeat", "label": "GhostFeat", "help": "never registered."}]})"),
                                  json::object(), "test_plugin");
    const StageSchema& features = Schema::instance().requireStage("features");
    QVERIFY(features.method("testfeat") && features.param("testfeat_level"));
    QCOMPARE(Schema::instance().validate("features", "method", "testfeat"), json("testfeat"));
    QVERIFY(QString::fromStdString(features.param("method")->help).contains("testfeat: a test method."));
    MethodRegistry::instance().add<int>("features", "testfeat", 7, [](const json&) {
      throw Error("weights 'testfeat/testfeat.pt' were not found under /nowhere");
    });
    json values = features.defaults();
    values["method"] = "testfeat";
    ResolvedMethod r = resolveMethod("features", values);
    QCOMPARE(r.name, std::string("sift"));
    QVERIFY(r.classical);
    QVERIFY2(QString::fromStdString(r.warning).contains("testfeat/testfeat.pt") &&
                 QString::fromStdString(r.warning).contains("Using SIFT (features.sift) instead"),
             qPrintable(QString::fromStdString(r.warning)));
    values["method"] = "ghostfeat";
    r = resolveMethod("features", values);
    QVERIFY2(r.name == "sift" && QString::fromStdString(r.warning).contains("no installed plugin provides features.ghostfeat"),
             qPrintable(QString::fromStdString(r.warning)));
    values["method"] = "sift";
    r = resolveMethod("features", values);
    QVERIFY(r.name == "sift" && r.warning.empty());
    QCOMPARE(*MethodRegistry::instance().find<int>("features", "testfeat"), 7);
    QVERIFY(!MethodRegistry::instance().find<double>("features", "testfeat"));  // another kind
    // A method stays a method of its own stage only, and is not declared twice.
    QVERIFY(test::errorOf([] {
              Schema::instance().addMethods(json::parse(R"({"methods": [{"stage": "features", "name": "testfeat"}]})"));
            }).contains("declared twice"));
    QVERIFY(test::errorOf([] {
              Schema::instance().addMethods(json::parse(R"({"methods": [{"stage": "import", "name": "x"}]})"));
            }).contains("has no methods"));
  }

  void malformedSchemaDocumentsAreRejected() {
    Schema s;
    QVERIFY(test::errorOf([&] {
              s.addStages(json::parse(R"({"stages":[{"name":"x","after":["nope"]}]})"));
            }).contains("unknown stage"));
    QVERIFY(
        test::errorOf([&] {
          s.addStages(json::parse(
              R"({"stages":[{"name":"y","params":[{"name":"p","type":"int","default":9,"min":0,"max":5,"help":"h"}]}]})"));
        }).contains("out of range"));
  }
};

QTEST_GUILESS_MAIN(TestSchema)
#include "test_schema.moc"
