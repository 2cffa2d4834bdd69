// Running the real mediadex binary from tests: a shell command's exit code, stdout and stderr.
#ifndef MEDIADEX_TESTS_CLI_CLI_UTIL_H_
#define MEDIADEX_TESTS_CLI_CLI_UTIL_H_

#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace mediadex::testing {

struct CommandRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs a shell command line; captures stdout, and stderr through a file in `scratch`.
inline CommandRun Shell(const std::string& command, const std::filesystem::path& scratch) {
  const std::filesystem::path err_file = scratch / "stderr.txt";
  CommandRun run;
  FILE* pipe = popen((command + " 2>" + ShellQuote(err_file.string())).c_str(), "r");
  if (!pipe) return run;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) run.out.append(buf.data(), n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.err = ReadFile(err_file);
  return run;
}

// The binary under test: build/mediadex.
inline std::string MediadexBinary() { return ShellQuote(std::string(MEDIADEX_BINARY_DIR) + "/mediadex"); }

// One JSON value per non-empty line (the --json output of detect, search, errors).
inline std::vector<nlohmann::json> JsonLines(const std::string& out) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

}  // namespace mediadex::testing

#endif  // MEDIADEX_TESTS_CLI_CLI_UTIL_H_
