#include "libpsy/generate/stop_strings.h"

namespace psy {

std::size_t find_stop_string(const std::string& text, const std::vector<std::string>& stops) {
  std::size_t best = std::string::npos;
  for (const auto& s : stops) {
    if (s.empty()) continue;
    const std::size_t at = text.find(s);
    if (at != std::string::npos && (best == std::string::npos || at < best)) best = at;
  }
  return best;
}

}  // namespace psy
