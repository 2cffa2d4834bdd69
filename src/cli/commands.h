// The subcommands. Each file in cli/ registers one on the CLI11 app and returns a callback
// that runs it and yields the process exit code.
#ifndef MEDIADEX_CLI_COMMANDS_H_
#define MEDIADEX_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>

#include <functional>

namespace mediadex::cli {

using Command = std::function<int()>;

Command RegisterDetect(CLI::App& app);
Command RegisterDoctor(CLI::App& app);
Command RegisterConfig(CLI::App& app);
Command RegisterIndex(CLI::App& app);
Command RegisterSearch(CLI::App& app);
Command RegisterStatus(CLI::App& app);
Command RegisterErrors(CLI::App& app);
Command RegisterExport(CLI::App& app);
Command RegisterServe(CLI::App& app);
Command RegisterWorker(CLI::App& app);

}  // namespace mediadex::cli

#endif  // MEDIADEX_CLI_COMMANDS_H_
