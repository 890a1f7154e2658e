// Checks every learned feature method must pass, shared by the suite of each feature
// plugin (tests/integration/test_learned_features.cpp, plugins/<plugin>/test_*.cpp):
// keypoints found again and matched on real photos warped by known homographies, the
// half-turn extraction matching upside-down photos, and how features are stored.
#pragma once

#include <QString>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace parallax::test {

// The models folder (PARALLAX_MODELS, else the shared one); loads the built-in stages
// and every plugin with it. Skips (fails under CI) when `weightFile` is not there.
bool setUpLearnedFeatures(const QString& weightFile);
// The features stage's declared defaults with `method` chosen.
nlohmann::json featureParams(const std::string& method);
// Photos of two real scenes (a small object on black, a facade), 640 px.
std::vector<cv::Mat> realPhotos(const std::filesystem::path& temple, const std::filesystem::path& fountain);
long long sqlCount(const std::filesystem::path& db, const std::string& sql);
// Every photo of the database has its features stored as `type`, `dims` float32 values
// a descriptor in parallax_descriptors, none in COLMAP's table, and over 100 keypoints.
bool storedAsLearned(const std::filesystem::path& db, const std::string& type, int dims);

// Warped real photos: MMA@3 and repeatability at least these; unit descriptors,
// keypoints inside the photo, at most max_num_features of them. Uses QVERIFY.
void checkWarpAccuracy(const std::string& method, double minMma3, double minRepeatability);
// A photo and its upside-down copy: the half turn finds at least 200 correct matches
// and five times as many as upright extraction. Uses QVERIFY.
void checkHalfTurn(const std::string& method);

}  // namespace parallax::test
