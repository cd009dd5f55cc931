// Stop strings: where generation stops in the decoded text.
#pragma once
#include <string>
#include <vector>

namespace psy {

// Position of the earliest stop string in text (empty stop strings ignored), or npos.
std::size_t find_stop_string(const std::string& text, const std::vector<std::string>& stops);

}  // namespace psy
