#include "features/matching.h"

#include "features/feature_extractor.h"
#include "params/stages.h"
#include "util/error.h"

#include <opencv2/calib3d.hpp>
#include <opencv2/core/eigen.hpp>
#include <opencv2/features2d.hpp>
#include <Eigen/Core>
#include <Eigen/LU>

#include <cmath>
#include <immintrin.h>
#include <limits>

namespace parallax {
namespace {

Eigen::Matrix3d toEigen(const cv::Mat& m) {
  Eigen::Matrix3d e = Eigen::Matrix3d::Zero();
  if (m.rows == 3 && m.cols == 3) cv::cv2eigen(m, e);
  return e;
}

int countMask(const cv::Mat& mask) { return mask.empty() ? 0 : cv::countNonZero(mask); }

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Dot products of descriptor rows, the inner loop of exhaustive matching.
// `packed` holds B in tiles of kTile columns, each tile dim-major (128 x kTile),
// so the AVX2 kernel streams it from L1 while 4 rows of A are broadcast.
constexpr int kTile = 64;

RowMatrix packColumns(const RowMatrix& B) {
  const int dims = int(B.cols());
  const int tiles = (int(B.rows()) + kTile - 1) / kTile;
  RowMatrix packed = RowMatrix::Zero(tiles, dims * kTile);
  for (int j = 0; j < B.rows(); ++j)
    for (int k = 0; k < dims; ++k) packed(j / kTile, k * kTile + j % kTile) = B(j, k);
  return packed;
}

__attribute__((target("avx2,fma"))) void dotsAvx2(const RowMatrix& A, int r0, int rows,
                                                   const RowMatrix& packed, int dims,
                                                   RowMatrix& out) {
  const int tiles = int(packed.rows());
  const int width = tiles * kTile;
  for (int t = 0; t < tiles; ++t) {
    const float* tile = packed.data() + size_t(t) * size_t(dims) * kTile;
    for (int i = 0; i < rows; i += 4) {
      const float* a[4];
      for (int r = 0; r < 4; ++r) a[r] = A.data() + size_t(r0 + std::min(i + r, rows - 1)) * dims;
      for (int j = 0; j < kTile; j += 16) {
        // 4 rows x 16 columns of accumulators, written out so they stay in registers.
        __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
               c30 = c00, c31 = c00;
        const float* b = tile + j;
        for (int k = 0; k < dims; ++k, b += kTile) {
          const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
          __m256 av = _mm256_broadcast_ss(a[0] + k);
          c00 = _mm256_fmadd_ps(av, b0, c00);
          c01 = _mm256_fmadd_ps(av, b1, c01);
          av = _mm256_broadcast_ss(a[1] + k);
          c10 = _mm256_fmadd_ps(av, b0, c10);
          c11 = _mm256_fmadd_ps(av, b1, c11);
          av = _mm256_broadcast_ss(a[2] + k);
          c20 = _mm256_fmadd_ps(av, b0, c20);
          c21 = _mm256_fmadd_ps(av, b1, c21);
          av = _mm256_broadcast_ss(a[3] + k);
          c30 = _mm256_fmadd_ps(av, b0, c30);
          c31 = _mm256_fmadd_ps(av, b1, c31);
        }
        const __m256 results[4][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
        for (int r = 0; r < 4 && i + r < rows; ++r) {
          float* dst = out.data() + size_t(i + r) * size_t(width) + size_t(t) * kTile + size_t(j);
          _mm256_storeu_ps(dst, results[r][0]);
          _mm256_storeu_ps(dst + 8, results[r][1]);
        }
      }
    }
  }
}

// Descriptors as unit-length float rows: SIFT's uint8 scaled back by 1/512, learned
// descriptors as stored.
RowMatrix unitRows(const FeatureDescriptors& d) {
  RowMatrix m(d.rows, d.cols);
  if (d.isFloat()) {
    std::copy(d.values.begin(), d.values.end(), m.data());
  } else {
    for (size_t k = 0; k < d.data.size(); ++k) m.data()[k] = float(d.data[k]) * (1.f / 512.f);
  }
  return m;
}

bool haveAvx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

}  // namespace

MatchOptions matchOptionsFor(const std::string& type, const nlohmann::json& values) {
  const params::Matching p = params::Matching::from(values);
  MatchOptions o;
  o.cross_check = p.cross_check;
  // SIFT is core's own ("sift", "rootsift", "-upright"); a learned type names its method.
  if (type.empty() || type.find("sift") != std::string::npos) {
    o.max_ratio = p.max_ratio;
    o.max_distance = p.max_distance;
    return o;
  }
  const std::string method = type.substr(0, type.find('-'));
  const FeatureExtractor* extractor = findFeatureExtractor(method);
  if (!extractor)
    throw Error("the features in database.db are of type '" + type + "', and no installed plugin provides features." +
                method + " to say how they match; install it, or run the features stage again with another method");
  o.cross_check = true;
  o.max_ratio = extractor->matchRatio(values);
  o.max_distance = distanceForSimilarity(p.learned_min_similarity);
  return o;
}

FeatureMatches matchDescriptors(const FeatureDescriptors& a, const FeatureDescriptors& b,
                                const MatchOptions& o, std::vector<float>* ratios) {
  FeatureMatches out;
  if (ratios) ratios->clear();
  if (a.rows < 2 || b.rows < 2) return out;
  if (a.cols != b.cols || a.isFloat() != b.isFloat()) return out;  // different feature types
  const RowMatrix A = unitRows(a), B = unitRows(b);
  const Eigen::VectorXf normA = A.rowwise().squaredNorm(), normB = B.rowwise().squaredNorm();
  // Squared distances |x|^2 + |y|^2 - 2 x.y from one matrix product (BLAS-like GEMM), in
  // blocks of rows so a pair of 8192-feature photos needs 32 MB, not 256 MB. Each row keeps
  // its two nearest columns (ratio test), each column its two nearest rows (the reverse).
  constexpr float kInf = std::numeric_limits<float>::infinity();
  std::vector<float> row1(size_t(a.rows), kInf), row2(size_t(a.rows), kInf);
  std::vector<int> rowBest(size_t(a.rows), -1);
  std::vector<float> col1(size_t(b.rows), kInf), col2(size_t(b.rows), kInf);
  std::vector<int> colBest(size_t(b.rows), -1);
  constexpr int kBlock = 1024;
  const bool avx2 = haveAvx2() && a.cols == b.cols;
  const RowMatrix packed = avx2 ? packColumns(B) : RowMatrix();
  RowMatrix dots;
  for (int r0 = 0; r0 < a.rows; r0 += kBlock) {
    const int rows = std::min(kBlock, a.rows - r0);
    if (avx2) {
      dots.resize(rows, packed.rows() * kTile);
      dotsAvx2(A, r0, rows, packed, a.cols, dots);
    } else {
      dots.noalias() = A.middleRows(r0, rows) * B.transpose();
    }
    for (int r = 0; r < rows; ++r) {
      const int i = r0 + r;
      const float* d = dots.data() + size_t(r) * size_t(dots.cols());
      float best = kInf, second = kInf;
      int bestJ = -1;
      for (int j = 0; j < b.rows; ++j) {
        const float dist = normA[i] + normB[j] - 2.f * d[j];
        if (dist < second) {
          if (dist < best) {
            second = best;
            best = dist;
            bestJ = j;
          } else {
            second = dist;
          }
        }
        if (dist < col2[size_t(j)]) {
          if (dist < col1[size_t(j)]) {
            col2[size_t(j)] = col1[size_t(j)];
            col1[size_t(j)] = dist;
            colBest[size_t(j)] = i;
          } else {
            col2[size_t(j)] = dist;
          }
        }
      }
      row1[size_t(i)] = best;
      row2[size_t(i)] = second;
      rowBest[size_t(i)] = bestJ;
    }
  }
  auto distance = [](float squared) { return std::sqrt(std::max(0.f, squared)); };
  const float maxDistance = float(o.max_distance), ratio = float(o.max_ratio);
  for (int i = 0; i < a.rows; ++i) {
    const int j = rowBest[size_t(i)];
    if (j < 0) continue;
    const float best = distance(row1[size_t(i)]);
    const float rowRatio = best / std::max(1e-12f, distance(row2[size_t(i)]));
    if (best > maxDistance || rowRatio > ratio) continue;
    float colRatio = 0.f;
    if (o.cross_check) {
      colRatio = distance(col1[size_t(j)]) / std::max(1e-12f, distance(col2[size_t(j)]));
      if (colBest[size_t(j)] != i || colRatio > ratio) continue;
    }
    out.emplace_back(uint32_t(i), uint32_t(j));
    if (ratios) ratios->push_back(std::max(rowRatio, colRatio));
  }
  return out;
}

FeatureMatches guidedMatch(const FeatureDescriptors& a, const std::vector<FeatureKeypoint>& kpsA,
                           const FeatureDescriptors& b, const std::vector<FeatureKeypoint>& kpsB,
                           const TwoViewGeometry& g, double maxError, const MatchOptions& o) {
  FeatureMatches out;
  if (a.rows < 1 || b.rows < 1 || a.cols != b.cols || a.isFloat() != b.isFloat() ||
      size_t(a.rows) > kpsA.size() ||
      size_t(b.rows) > kpsB.size())
    return out;
  const bool planar = g.config == kPlanar || g.config == kPanoramic ||
                      g.config == kPlanarOrPanoramic;
  const Eigen::Matrix3d M = planar ? g.H : g.F;
  if (M.isZero() || !M.allFinite()) return out;
  Eigen::Matrix3d Minv = Eigen::Matrix3d::Zero();
  if (planar) {
    if (std::abs(M.determinant()) < 1e-12) return out;
    Minv = M.inverse();
  }
  // Per feature of A: its epipolar line in B (unit normal) or its transfer into B; and back.
  auto point = [](const FeatureKeypoint& k) { return Eigen::Vector3d(k.x, k.y, 1.0); };
  auto line = [](const Eigen::Vector3d& l) {
    const double n = std::hypot(l.x(), l.y());
    return n > 1e-12 ? Eigen::Vector3d(l / n) : Eigen::Vector3d(0, 0, 1e12);
  };
  auto transfer = [](const Eigen::Vector3d& x) {
    return std::abs(x.z()) > 1e-12 ? Eigen::Vector3d(x / x.z())
                                   : Eigen::Vector3d(1e12, 1e12, 1.0);
  };
  std::vector<Eigen::Vector3d> toB(size_t(a.rows)), toA(size_t(b.rows));
  for (int i = 0; i < a.rows; ++i)
    toB[size_t(i)] = planar ? transfer(M * point(kpsA[size_t(i)]))
                            : line(M * point(kpsA[size_t(i)]));
  for (int j = 0; j < b.rows; ++j)
    toA[size_t(j)] = planar ? transfer(Minv * point(kpsB[size_t(j)]))
                            : line(M.transpose() * point(kpsB[size_t(j)]));
  const double maxSq = maxError * maxError;
  auto fits = [&](int i, int j) {
    const Eigen::Vector3d xa = point(kpsA[size_t(i)]), xb = point(kpsB[size_t(j)]);
    if (planar)
      return (toB[size_t(i)] - xb).head<2>().squaredNorm() <= maxSq &&
             (toA[size_t(j)] - xa).head<2>().squaredNorm() <= maxSq;
    return std::abs(toB[size_t(i)].dot(xb)) <= maxError &&
           std::abs(toA[size_t(j)].dot(xa)) <= maxError;
  };
  // Descriptor distances for the candidates only (a few percent of all pairs).
  const int dims = a.cols;
  const RowMatrix A = unitRows(a), B = unitRows(b);
  const Eigen::VectorXf normA = A.rowwise().squaredNorm(), normB = B.rowwise().squaredNorm();
  constexpr float kInf = std::numeric_limits<float>::infinity();
  std::vector<float> row1(size_t(a.rows), kInf), row2(size_t(a.rows), kInf);
  std::vector<float> col1(size_t(b.rows), kInf), col2(size_t(b.rows), kInf);
  std::vector<int> rowBest(size_t(a.rows), -1), colBest(size_t(b.rows), -1);
  for (int i = 0; i < a.rows; ++i) {
    const float* x = A.data() + size_t(i) * size_t(dims);
    for (int j = 0; j < b.rows; ++j) {
      if (!fits(i, j)) continue;
      const float* y = B.data() + size_t(j) * size_t(dims);
      float dot = 0.f;
      for (int k = 0; k < dims; ++k) dot += x[k] * y[k];
      const float dist = std::sqrt(std::max(0.f, normA[i] + normB[j] - 2.f * dot));
      if (dist < row1[size_t(i)]) {
        row2[size_t(i)] = row1[size_t(i)];
        row1[size_t(i)] = dist;
        rowBest[size_t(i)] = j;
      } else if (dist < row2[size_t(i)]) {
        row2[size_t(i)] = dist;
      }
      if (dist < col1[size_t(j)]) {
        col2[size_t(j)] = col1[size_t(j)];
        col1[size_t(j)] = dist;
        colBest[size_t(j)] = i;
      } else if (dist < col2[size_t(j)]) {
        col2[size_t(j)] = dist;
      }
    }
  }
  const float maxDistance = float(o.max_distance), ratio = float(o.max_ratio);
  for (int i = 0; i < a.rows; ++i) {
    const int j = rowBest[size_t(i)];
    if (j < 0 || row1[size_t(i)] > maxDistance || row1[size_t(i)] > ratio * row2[size_t(i)])
      continue;
    if (o.cross_check && (colBest[size_t(j)] != i || col1[size_t(j)] > ratio * col2[size_t(j)]))
      continue;
    out.emplace_back(uint32_t(i), uint32_t(j));
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
