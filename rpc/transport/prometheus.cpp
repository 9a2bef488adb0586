#include "rpc/transport/prometheus.hpp"

#include <spdlog/fmt/fmt.h>
#include <cmath>

namespace btd::rpc::transport {

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

void PromText::family(std::string_view name, std::string_view type, std::string_view help) {
    text_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void PromText::sample(std::string_view name, const Labels& labels, double value) {
    text_ += name;
    if (!labels.empty()) {
        text_ += '{';
        for (std::size_t i = 0; i < labels.size(); ++i) {
            if (i) text_ += ',';
            text_ +=
                fmt::format("{}=\"{}\"", labels[i].first, escape_label_value(labels[i].second));
        }
        text_ += '}';
    }
    if (std::isinf(value))
        text_ += value > 0 ? " +Inf\n" : " -Inf\n";
    else if (value == std::floor(value) && std::fabs(value) < 1e15)
        text_ += fmt::format(" {}\n", static_cast<long long>(value));
    else
        text_ += fmt::format(" {}\n", value);
}

}  // namespace btd::rpc::transport
