// Small I/O helpers shared by subcommands.
#pragma once
#include <string>
#include <vector>

namespace gander::cli {
std::string read_all(const std::string& path);  // "-" = standard input
std::string read_stdin();
// Parses a JSON array of integers (a file path or "-" for stdin); errors name the source.
std::vector<int32_t> read_id_array(const std::string& text, const std::string& source);
}  // namespace gander::cli
