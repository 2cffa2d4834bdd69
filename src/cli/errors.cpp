// mediadex errors [--json] [--limit N]: every file whose analysis failed, with the reason
// (for the latest model used), in path order.
#include <nlohmann/json.hpp>

#include <cstdio>

#include "cli/catalog_open.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/json_output.h"

namespace mediadex::cli {
namespace {

struct ErrorsArgs {
  SettingsFlags settings;
  bool json = false;
  int limit = 0;
};

int RunErrors(const ErrorsArgs& args) {
  if (args.limit < 0) return Fail(InvalidArgument("--limit must be >= 0 (0 = all)"));
  auto config = args.settings.Resolve();
  if (!config.ok()) return Fail(config.status());
  auto db = OpenCatalogFromConfig(*config, /*create=*/false);
  if (!db.ok()) return Fail(db.status());
  auto errors = (*db)->Errors(0, args.limit);
  if (!errors.ok()) return Fail(errors.status());
  for (const auto& e : *errors) {
    if (args.json) {
      const nlohmann::json line = {{"file", JsonText(e.path)}, {"media_id", e.media_id}, {"error", JsonText(e.error)}};
      std::printf("%s\n", DumpJson(line).c_str());
    } else {
      std::printf("%s: %s\n", OneLine(e.path).c_str(), OneLine(e.error).c_str());
    }
  }
  std::fflush(stdout);
  if (!args.json) std::fprintf(stderr, "%zu failed file%s\n", errors->size(), errors->size() == 1 ? "" : "s");
  return kExitOk;
}

}  // namespace

Command RegisterErrors(CLI::App& app) {
  auto args = std::make_shared<ErrorsArgs>();
  CLI::App* sub = app.add_subcommand("errors", "each file that failed to analyse, with the reason");
  args->settings.Add(*sub, {"catalog"});
  sub->add_flag("--json", args->json, "one JSON object per line: file, media_id, error");
  sub->add_option("--limit", args->limit, "at most this many; 0 = all [0]");
  return [args] { return RunErrors(*args); };
}

}  // namespace mediadex::cli
