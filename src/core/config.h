// Settings: every knob has one key, one flag, one environment variable and one default.
//
//   key          flag            env                   config file line
//   batch_size   --batch-size    MEDIADEX_BATCH_SIZE   batch_size = 64
//
// Precedence: flags > environment > config file > defaults. `mediadex config` prints each
// effective value and where it came from. The config file is --config FILE, else
// $MEDIADEX_CONFIG, else $XDG_CONFIG_HOME/mediadex/config (~/.config/mediadex/config) if present.
#ifndef MEDIADEX_CORE_CONFIG_H_
#define MEDIADEX_CORE_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace mediadex {

enum class ConfigSource { kDefault, kFile, kEnv, kFlag };
const char* ConfigSourceName(ConfigSource source);

struct ConfigKey {
  const char* key;           // snake_case; the flag is --key-with-dashes, env MEDIADEX_KEY
  const char* default_value;
  const char* help;          // one line: what, unit, trade-off
};

// Every key mediadex knows, with its default. The defaults follow the original app where it
// had one (concurrency 3, batches of 64, an 8 GiB ceiling, score 0.2, IoU 0.4, 10 per photo).
const std::vector<ConfigKey>& ConfigKeys();

struct ConfigValue {
  std::string value;
  ConfigSource source = ConfigSource::kDefault;
  std::string origin;  // "default", the file path and line, the env var, or the flag
};

class Config {
 public:
  Config();  // every key at its default

  // `key = value` lines; '#' starts a comment; blank lines ignored. Unknown keys and malformed
  // lines are InvalidArgument naming file:line. A missing file is NotFound.
  Status LoadFile(const std::string& path);
  // MEDIADEX_<KEY> for every key; the original app's TF_METAL_DEVICE=1 means metal_env=1.
  void LoadEnv();
  // A value given on the command line.
  Status SetFlag(const std::string& key, const std::string& value);

  std::string Get(const std::string& key) const;
  Result<int64_t> GetInt(const std::string& key) const;
  Result<double> GetDouble(const std::string& key) const;
  Result<bool> GetBool(const std::string& key) const;
  // Sizes: "8GiB", "512MiB", "1.5G", "100000" (bytes); K/M/G/T are powers of 1024.
  Result<uint64_t> GetBytes(const std::string& key) const;
  const ConfigValue& Entry(const std::string& key) const;
  const std::map<std::string, ConfigValue>& entries() const { return values_; }

  // Where the config file is looked for when --config is not given ("" when none exists).
  static std::string DefaultFilePath();

 private:
  Status Set(const std::string& key, const std::string& value, ConfigSource source,
             const std::string& origin);
  std::map<std::string, ConfigValue> values_;
};

// "8GiB" -> 8589934592. InvalidArgument on junk.
Result<uint64_t> ParseBytes(const std::string& text);
std::string FormatBytes(uint64_t bytes);

}  // namespace mediadex

#endif  // MEDIADEX_CORE_CONFIG_H_
