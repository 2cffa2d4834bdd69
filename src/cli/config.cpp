// mediadex config: every setting's effective value and where it came from
// (flag > env > config file > default).
#include <cstdio>

#include "catalog/postgres/pg_connection.h"
#include "cli/commands.h"
#include "cli/common.h"

namespace mediadex::cli {
namespace {

std::vector<std::string> AllKeys() {
  std::vector<std::string> keys;
  for (const auto& k : ConfigKeys()) keys.push_back(k.key);
  return keys;
}

int RunConfig(const SettingsFlags& settings) {
  auto config = settings.Resolve();
  if (!config.ok()) return Fail(config.status());
  std::printf("%-16s %-28s %-8s %s\n", "key", "value", "source", "from");
  for (const auto& k : ConfigKeys()) {
    const ConfigValue& v = config->Entry(k.key);
    std::string value = v.value;
    if (std::string(k.key) == "model" && value.empty()) value = "(bundled) " + DefaultModelPath();
    if (std::string(k.key) == "catalog") value = catalog::postgres::RedactUrl(value);  // no password on screen
    std::printf("%-16s %-28s %-8s %s\n", k.key, value.c_str(), ConfigSourceName(v.source), v.origin.c_str());
  }
  return kExitOk;
}

}  // namespace

Command RegisterConfig(CLI::App& app) {
  auto settings = std::make_shared<SettingsFlags>();
  CLI::App* sub = app.add_subcommand("config", "print every setting, its value and where it came from");
  settings->Add(*sub, AllKeys());
  return [settings] { return RunConfig(*settings); };
}

}  // namespace mediadex::cli
