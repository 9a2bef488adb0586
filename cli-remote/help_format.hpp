#pragma once
// btctl's help layout on top of CLI11's formatter: the usage line first, then what the command
// does, its arguments, its options, an example, and a closing note. The command list in
// `btctl --help` shows one line per command. All texts come from a table of CommandHelp rows.
#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace btd::btctl {

struct CommandHelp {
    std::string_view name;       // "set"
    std::string_view arguments;  // "ID...|--all": what the command list shows after the name
    std::string_view options;    // "[--down-limit RATE] ...": the rest of the usage line
    std::string_view summary;    // one line, for the command list and the top of CMD --help
    std::string_view details;    // more for CMD --help (lines of at most 96 characters)
    std::string_view example;    // one or more command lines, one per line
};

class HelpFormatter : public CLI::Formatter {
  public:
    // `program_usage`: the usage line of the program itself (after "usage: btctl ").
    // `command_note`: printed at the end of every command's help.
    HelpFormatter(std::vector<CommandHelp> commands, std::string program_usage,
                  std::string command_note);

    std::string make_help(const CLI::App* app, std::string name,
                          CLI::AppFormatMode mode) const override;
    std::string make_usage(const CLI::App* app, std::string name) const override;
    std::string make_subcommand(const CLI::App* sub) const override;
    std::string make_option_name(const CLI::Option* opt, bool is_positional) const override;
    std::string make_option_opts(const CLI::Option* opt) const override;

  private:
    const CommandHelp* find(const CLI::App* app) const;  // nullptr for the program itself

    std::vector<CommandHelp> commands_;
    std::string program_usage_;
    std::string command_note_;
};

}  // namespace btd::btctl
