// A thread-safe map from name to implementation, for what plugins register
// (depth estimators, feature extractors). Each registry's single instance lives in a
// function in core's .cpp, so plugins and the application share it.
#pragma once

#include <map>
#include <mutex>
#include <string>

namespace parallax {

template <class T>
class NamedRegistry {
 public:
  void add(T item) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string name = item.name;
    items_[name] = std::move(item);
  }
  // Entries are never removed, so the pointer stays valid.
  const T* find(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = items_.find(name);
    return it == items_.end() ? nullptr : &it->second;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, T> items_;
};

}  // namespace parallax
