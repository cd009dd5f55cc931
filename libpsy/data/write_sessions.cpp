#include "libpsy/data/write_sessions.h"

#include "libpsy/core/atomic_file.h"

namespace psy {

void write_sessions_json(const std::string& path, const std::vector<Session>& sessions) {
  write_file_atomic(path, [&sessions](std::ostream& out) {
    out << "[\n";
    for (size_t i = 0; i < sessions.size(); ++i) {
      out << sessions[i].raw_json << (i + 1 < sessions.size() ? ",\n" : "\n");
    }
    out << "]\n";
  });
}

}  // namespace psy
