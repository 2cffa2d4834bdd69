// mediadex: find the objects in every photo of a media library.
// This file only wires the subcommands (one file each in cli/) into CLI11.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>
#include <map>

#include "cli/commands.h"
#include "cli/common.h"

int main(int argc, char** argv) {
  using namespace mediadex::cli;
  CLI::App app{"mediadex: find the objects in every photo of a media library"};
  app.require_subcommand(1);
  bool verbose = false;
  bool quiet = false;
  app.add_flag("-v,--verbose", verbose, "more log lines");
  app.add_flag("-q,--quiet", quiet, "errors only");

  std::map<CLI::App*, Command> commands;
  auto add = [&](Command (*reg)(CLI::App&)) {
    const size_t before = app.get_subcommands({}).size();
    Command command = reg(app);
    commands[app.get_subcommands({})[before]] = std::move(command);
  };
  add(RegisterDetect);
  add(RegisterIndex);
  add(RegisterDoctor);
  add(RegisterConfig);
  add(RegisterSearch);
  add(RegisterStatus);
  add(RegisterErrors);
  add(RegisterExport);
  add(RegisterServe);
  add(RegisterWorker);

  CLI11_PARSE(app, argc, argv);
  spdlog::set_default_logger(spdlog::stderr_color_mt("mediadex"));
  spdlog::set_pattern("%^[%l]%$ %v");
  spdlog::set_level(quiet ? spdlog::level::err : verbose ? spdlog::level::debug : spdlog::level::info);
  for (auto& [sub, run] : commands) {
    if (!sub->parsed()) continue;
    // The last safety net: whatever a subcommand missed is one error line and exit 2, not an
    // abort (std::terminate, exit 134) in the middle of its output.
    try {
      return run();
    } catch (const std::exception& e) {
      std::fflush(stdout);
      PrintError(std::string("internal error: ") + e.what());
      return kExitError;
    }
  }
  return kExitError;
}
