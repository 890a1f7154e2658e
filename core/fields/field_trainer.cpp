#include "fields/field_trainer.h"

#include <cmath>
#include <opencv2/imgproc.hpp>

#include "util/error.h"

namespace parallax {
double psnr(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size() || a.empty()) throw Error("psnr: images of different sizes");
  double se = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = double(a[i]) - double(b[i]);
    se += d * d;
  }
  const double mse = se / double(a.size());
  return mse <= 1e-20 ? 200.0 : -10.0 * std::log10(mse);
}

double ssim(const std::vector<float>& a, const std::vector<float>& b, int width, int height) {
  if (a.size() != b.size() || a.size() != size_t(width) * size_t(height) * 3)
    throw Error("ssim: images of different sizes");
  const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
  double total = 0;
  for (int c = 0; c < 3; ++c) {
    cv::Mat x(height, width, CV_64F), y(height, width, CV_64F);
    for (int i = 0; i < height; ++i)
      for (int j = 0; j < width; ++j) {
        const size_t k = (size_t(i) * size_t(width) + size_t(j)) * 3 + size_t(c);
        x.at<double>(i, j) = a[k];
        y.at<double>(i, j) = b[k];
      }
    auto blur = [](const cv::Mat& m) {
      cv::Mat o;
      cv::GaussianBlur(m, o, cv::Size(11, 11), 1.5, 1.5, cv::BORDER_REFLECT);
      return o;
    };
    const cv::Mat mx = blur(x), my = blur(y);
    const cv::Mat sxx = blur(x.mul(x)) - mx.mul(mx), syy = blur(y.mul(y)) - my.mul(my),
                  sxy = blur(x.mul(y)) - mx.mul(my);
    cv::Mat num = (2 * mx.mul(my) + c1).mul(2 * sxy + c2);
    cv::Mat den = (mx.mul(mx) + my.mul(my) + c1).mul(sxx + syy + c2);
    cv::Mat map;
    cv::divide(num, den, map);
    total += cv::mean(map)[0];
  }
  return total / 3.0;
}

}  // namespace parallax
