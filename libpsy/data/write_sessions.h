// Writing sessions back in the released format (a JSON list), unchanged from how they were read.
#pragma once
#include <string>
#include <vector>

#include "libpsy/data/session.h"

namespace psy {

// Writes `sessions` as a JSON list of their original objects, atomically.
void write_sessions_json(const std::string& path, const std::vector<Session>& sessions);

}  // namespace psy
