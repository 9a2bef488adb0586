#include "cli-remote/help_format.hpp"

#include <cctype>
#include <sstream>

namespace btd::btctl {
namespace {

// Indents every line of `text` by two spaces.
std::string indented(std::string_view text) {
    std::string out;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        out += "  ";
        out += text.substr(start, end - start);
        out += '\n';
        start = end + 1;
    }
    return out;
}

}  // namespace

HelpFormatter::HelpFormatter(std::vector<CommandHelp> commands, std::string program_usage,
                             std::string command_note)
    : commands_(std::move(commands)),
      program_usage_(std::move(program_usage)),
      command_note_(std::move(command_note)) {
    label("Positionals", "Arguments");
    column_width(26);
}

const CommandHelp* HelpFormatter::find(const CLI::App* app) const {
    if (app->get_parent() == nullptr) return nullptr;
    for (const auto& c : commands_)
        if (c.name == app->get_name()) return &c;
    return nullptr;
}

std::string HelpFormatter::make_help(const CLI::App* app, std::string name,
                                     CLI::AppFormatMode mode) const {
    std::ostringstream out;
    out << make_usage(app, name) << "\n";
    const CommandHelp* command = find(app);
    if (command == nullptr) {
        out << make_description(app) << make_subcommands(app, mode) << make_groups(app, mode)
            << "\n"
            << make_footer(app);
        return out.str();
    }
    std::string summary(command->summary);
    if (!summary.empty()) summary[0] = static_cast<char>(std::toupper(summary[0]));
    out << summary << ".\n";
    if (!command->details.empty()) out << "\n" << command->details << "\n";
    out << make_positionals(app) << make_groups(app, mode);
    out << "\nExample:\n" << indented(command->example);
    out << "\n" << command_note_ << "\n";
    return out.str();
}

std::string HelpFormatter::make_usage(const CLI::App* app, std::string name) const {
    const CommandHelp* command = find(app);
    if (command == nullptr) return "usage: " + name + " " + program_usage_ + "\n";
    std::string line = "usage: " + name;
    for (auto part : {command->arguments, command->options})
        if (!part.empty()) line += " " + std::string(part);
    return line + "\n";
}

// One line per command: name, arguments and summary.
std::string HelpFormatter::make_subcommand(const CLI::App* sub) const {
    const CommandHelp* command = find(sub);
    std::string name = sub->get_name();
    if (command != nullptr && !command->arguments.empty())
        name += " " + std::string(command->arguments);
    std::ostringstream out;
    CLI::detail::format_help(out, name, command ? std::string(command->summary) : "",
                             get_column_width());
    return out.str();
}

// Arguments are shown by what they stand for ("ID..."), not by an internal name.
std::string HelpFormatter::make_option_name(const CLI::Option* opt, bool is_positional) const {
    if (is_positional) return opt->get_type_name();
    return CLI::Formatter::make_option_name(opt, is_positional);
}

std::string HelpFormatter::make_option_opts(const CLI::Option* opt) const {
    if (opt->get_positional()) return {};
    return CLI::Formatter::make_option_opts(opt);
}

}  // namespace btd::btctl
