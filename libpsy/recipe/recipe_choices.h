// The recipe's closed choices as enums, parsed once where the recipe is read (recipe_schema.cpp),
// so no other file compares their strings. Each enum has one table of names (its YAML spelling,
// in the enum's order); choice_name() gives the name back for messages, manifests and JSON.
// No LibTorch: the torch types these map to live in libpsy/run/torch_choices.h.
#pragma once
#include <cstddef>
#include <iterator>
#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "libpsy/data/load_sessions.h"  // OnError (data.on_error)
#include "libpsy/train/lr_schedule.h"   // ScheduleKind (train.schedule)

namespace psy {

enum class WeightDtype { Fp32, Bf16, Fp16 };               // model.dtype, train.precision, eval.judge.dtype
enum class Quantization { None, Nf4 };                     // model.quantization
enum class TrainMode { Lora, Full };                       // train.mode
enum class LossDenominator { WeightSum, NonzeroTokens };   // train.plw_normalization
enum class NanPolicy { Stop, Skip };                       // train.nan_policy
enum class ParallelMode { None, Data, Layers };            // devices.parallel
enum class DataUnit { Turn, Session };                     // data.unit
enum class MissingAnnotation { SkipSection, Placeholder, DropSample };  // data.missing_annotation
enum class ReasoningSlot { Content, Think };               // data.reasoning_slot
enum class Decoding { Greedy, Sample };                    // eval.decoding

// One entry of devices.use: cpu, cuda, cpu:N or cuda:N (index -1 = none given).
struct DeviceName {
  enum class Kind { Cpu, Cuda } kind = Kind::Cpu;
  int index = -1;
  bool is_cuda() const { return kind == Kind::Cuda; }
  std::string str() const { return std::string(kind == Kind::Cuda ? "cuda" : "cpu") + (index >= 0 ? ":" + std::to_string(index) : ""); }
  bool operator==(const DeviceName& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const DeviceName& o) const { return !(*this == o); }
};
// "cpu", "cuda", "cpu:N", "cuda:N" (N up to 3 digits); nullopt otherwise.
std::optional<DeviceName> parse_device_name(const std::string& text);

// The names of each choice, in enum order (specialised below).
template <typename E>
struct ChoiceNames;
// Printing and JSON (nlohmann finds to_json by argument-dependent lookup; a concrete enum type
// is more specialised than nlohmann's own enum-as-integer template) write the name.
#define PSY_CHOICE_NAMES(E, ...)                                                             \
  template <>                                                                                \
  struct ChoiceNames<E> {                                                                    \
    static constexpr const char* names[] = {__VA_ARGS__};                                    \
  };                                                                                         \
  inline std::ostream& operator<<(std::ostream& out, const E& e) {                           \
    return out << ChoiceNames<E>::names[static_cast<size_t>(e)];                             \
  }                                                                                          \
  template <typename Json>                                                                   \
  void to_json(Json& j, const E& e) {                                                        \
    j = ChoiceNames<E>::names[static_cast<size_t>(e)];                                       \
  }
PSY_CHOICE_NAMES(WeightDtype, "fp32", "bf16", "fp16")
PSY_CHOICE_NAMES(Quantization, "none", "nf4")
PSY_CHOICE_NAMES(TrainMode, "lora", "full")
PSY_CHOICE_NAMES(LossDenominator, "weight_sum", "nonzero_tokens")
PSY_CHOICE_NAMES(NanPolicy, "stop", "skip")
PSY_CHOICE_NAMES(ParallelMode, "none", "data", "layers")
PSY_CHOICE_NAMES(DataUnit, "turn", "session")
PSY_CHOICE_NAMES(MissingAnnotation, "skip_section", "placeholder", "drop_sample")
PSY_CHOICE_NAMES(ReasoningSlot, "content", "think")
PSY_CHOICE_NAMES(Decoding, "greedy", "sample")
PSY_CHOICE_NAMES(ScheduleKind, "constant", "linear", "cosine")
PSY_CHOICE_NAMES(OnError, "stop", "skip")
#undef PSY_CHOICE_NAMES

template <typename E, typename = void>
struct is_recipe_choice : std::false_type {};
template <typename E>
struct is_recipe_choice<E, std::void_t<decltype(ChoiceNames<E>::names)>> : std::true_type {};

template <typename E, typename = std::enable_if_t<is_recipe_choice<E>::value>>
const char* choice_name(E e) {
  return ChoiceNames<E>::names[static_cast<size_t>(e)];
}

template <typename E, typename = std::enable_if_t<is_recipe_choice<E>::value>>
std::vector<std::string> choice_names() {
  return std::vector<std::string>(std::begin(ChoiceNames<E>::names), std::end(ChoiceNames<E>::names));
}

template <typename E, typename = std::enable_if_t<is_recipe_choice<E>::value>>
std::optional<E> parse_choice(const std::string& name) {
  for (size_t i = 0; i < std::size(ChoiceNames<E>::names); ++i)
    if (name == ChoiceNames<E>::names[i]) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace psy
