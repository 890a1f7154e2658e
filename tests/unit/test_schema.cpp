// pipeline/schema: validation messages name the parameter, the value and what is allowed.
#include <QtTest>

#include "pipeline/schema.h"
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
