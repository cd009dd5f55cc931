#include "libpsy/recipe/resume_settings.h"

#include <yaml-cpp/yaml.h>

#include "libpsy/core/error.h"
#include "libpsy/recipe/recipe_schema.h"

namespace psy {

namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// Keys that only change how a run is carried out or reported, not what it learns.
bool is_bookkeeping(const std::string& key) {
  static const char* const kKeys[] = {"name", "output", "threads", "train.save_every", "train.keep_last",
                                      "train.eval_every", "train.log_every", "train.tensorboard",
                                      "train.early_stop_patience", "train.gradient_checkpointing"};
  for (const char* k : kKeys)
    if (key == k) return true;
  return starts_with(key, "devices.") || starts_with(key, "eval.");
}

std::string text_of(const YAML::Node& n) {
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

}  // namespace

ResumeCheck check_resume_settings(const Recipe& before, const Recipe& now, const std::string& before_file) {
  ResumeCheck out;
  for (const auto& f : recipe_detail::recipe_fields()) {
    const std::string was = text_of(f.get(before));
    const std::string is = text_of(f.get(now));
    if (was == is || is_bookkeeping(f.path)) continue;
    if (f.path == "train.epochs" && now.train.epochs > before.train.epochs) {
      out.extensions.push_back(f.path + " " + was + " -> " + is);
      continue;
    }
    if (f.path == "train.max_steps" && before.train.max_steps > 0 && now.train.max_steps > before.train.max_steps) {
      out.extensions.push_back(f.path + " " + was + " -> " + is);
      continue;
    }
    std::string hint = "keep " + was + " to resume, or start a new run (--overwrite, or another output folder)";
    if (f.path == "train.epochs" || f.path == "train.max_steps") hint = "a resumed run may only be extended; " + hint;
    throw Error("--resume: " + f.path + " was " + was + " when the run started (" + before_file + "), " + is +
                " now; that changes what the run trains: " + hint);
  }
  return out;
}

}  // namespace psy
