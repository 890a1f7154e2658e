#include "features/matching.h"

#include <opencv2/calib3d.hpp>
#include <opencv2/core/eigen.hpp>
#include <opencv2/features2d.hpp>

namespace parallax {
namespace {

cv::Mat toFloat(const FeatureDescriptors& d) {
  cv::Mat bytes(d.rows, d.cols, CV_8U, const_cast<uint8_t*>(d.data.data()));
  cv::Mat out;
  bytes.convertTo(out, CV_32F, 1.0 / 512.0);
  return out;
}

Eigen::Matrix3d toEigen(const cv::Mat& m) {
  Eigen::Matrix3d e = Eigen::Matrix3d::Zero();
  if (m.rows == 3 && m.cols == 3) cv::cv2eigen(m, e);
  return e;
}

int countMask(const cv::Mat& mask) { return mask.empty() ? 0 : cv::countNonZero(mask); }

}  // namespace

FeatureMatches matchDescriptors(const FeatureDescriptors& a, const FeatureDescriptors& b,
                                const MatchOptions& o) {
  FeatureMatches out;
  if (a.rows < 2 || b.rows < 2) return out;
  cv::Mat fa = toFloat(a), fb = toFloat(b);
  cv::BFMatcher matcher(cv::NORM_L2);
  std::vector<std::vector<cv::DMatch>> ab;
  matcher.knnMatch(fa, fb, ab, 2);
  std::vector<int> ba(size_t(b.rows), -1);
  if (o.cross_check) {
    std::vector<cv::DMatch> back;
    matcher.match(fb, fa, back);
    for (const auto& m : back) ba[size_t(m.queryIdx)] = m.trainIdx;
  }
  for (const auto& knn : ab) {
    if (knn.size() < 2) continue;
    const cv::DMatch& best = knn[0];
    if (best.distance > o.max_distance || best.distance > o.max_ratio * knn[1].distance) continue;
    if (o.cross_check && ba[size_t(best.trainIdx)] != best.queryIdx) continue;
    out.emplace_back(uint32_t(best.queryIdx), uint32_t(best.trainIdx));
  }
  return out;
}

TwoViewGeometry verifyPair(const std::vector<FeatureKeypoint>& kpsA, const Camera& camA,
                           const std::vector<FeatureKeypoint>& kpsB, const Camera& camB,
                           const FeatureMatches& matches, bool calibrated, const VerifyOptions& o) {
  TwoViewGeometry g;
  if (int(matches.size()) < o.min_num_inliers) {
    g.config = kDegenerate;
    return g;
  }
  std::vector<cv::Point2d> pa, pb, na, nb;
  for (const auto& [i, j] : matches) {
    pa.emplace_back(kpsA[i].x, kpsA[i].y);
    pb.emplace_back(kpsB[j].x, kpsB[j].y);
    Eigen::Vector3d ra = camA.camFromImg({kpsA[i].x, kpsA[i].y}),
                    rb = camB.camFromImg({kpsB[j].x, kpsB[j].y});
    na.emplace_back(ra.x(), ra.y());
    nb.emplace_back(rb.x(), rb.y());
  }
  cv::Mat maskF, maskE, maskH;
  cv::Mat F = cv::findFundamentalMat(pa, pb, cv::USAC_MAGSAC, o.max_error, o.confidence,
                                     o.max_iterations, maskF);
  cv::Mat E;
  if (calibrated) {
    const double focal = 0.25 * (camA.focalX() + camA.focalY() + camB.focalX() + camB.focalY());
    E = cv::findEssentialMat(na, nb, cv::Mat::eye(3, 3, CV_64F), cv::USAC_MAGSAC, o.confidence,
                             o.max_error / focal, o.max_iterations, maskE);
  }
  const int nF = F.rows == 3 ? countMask(maskF) : 0, nE = E.rows == 3 ? countMask(maskE) : 0;
  g.F = toEigen(F.rows == 3 ? F.rowRange(0, 3) : F);
  const cv::Mat* mask = nullptr;
  int best = 0;
  if (calibrated && nE >= o.min_num_inliers && nE >= o.min_e_f_inlier_ratio * nF) {
    g.config = kCalibrated;
    g.E = toEigen(E.rowRange(0, 3));
    cv::Mat R, t, poseMask = maskE.clone();
    cv::recoverPose(E.rowRange(0, 3), na, nb, cv::Mat::eye(3, 3, CV_64F), R, t, poseMask);
    Eigen::Matrix3d r = toEigen(R);
    g.cam2_from_cam1_rotation = Eigen::Quaterniond(r).normalized();
    g.cam2_from_cam1_translation =
        Eigen::Vector3d(t.at<double>(0), t.at<double>(1), t.at<double>(2));
    mask = &maskE;
    best = nE;
  } else if (nF >= o.min_num_inliers) {
    g.config = kUncalibrated;
    mask = &maskF;
    best = nF;
  }
  if (!mask || best < o.min_inlier_ratio * double(matches.size())) {
    g.config = kDegenerate;
    return g;
  }
  // The homography only flags planar scenes and pure rotations: fit it once a pair is verified.
  cv::Mat H = cv::findHomography(pa, pb, cv::USAC_MAGSAC, o.max_error, maskH, o.max_iterations,
                                 o.confidence);
  g.H = toEigen(H);
  if (H.rows == 3 && countMask(maskH) > o.max_h_inlier_ratio * best) g.config = kPlanarOrPanoramic;
  for (size_t k = 0; k < matches.size(); ++k)
    if (mask->at<uchar>(int(k))) g.inliers.push_back(matches[k]);
  return g;
}

}  // namespace parallax
