#include "libpsy/run/recipe_retrieval_hook.h"

#include <memory>

namespace psy {

CaseRetrieval recipe_case_retrieval(const Recipe& recipe, std::function<void(const RecipeRetriever&)> on_made) {
  auto retriever = std::make_shared<std::unique_ptr<RecipeRetriever>>();
  return [recipe, on_made, retriever](const std::vector<Session>& train, const std::vector<Session>& queries) {
    if (!*retriever) {
      *retriever = std::make_unique<RecipeRetriever>(recipe, train);
      if (on_made) on_made(**retriever);
    }
    return (*retriever)->cases_for(queries);
  };
}

}  // namespace psy
