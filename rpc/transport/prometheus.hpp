#pragma once
// Prometheus text exposition format (version 0.0.4), as a small writer: one HELP/TYPE header per
// metric family, then its samples. Label values are escaped (\\, \", \n). Pure, any thread.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace btd::rpc::transport {

using Labels = std::vector<std::pair<std::string_view, std::string>>;

class PromText {
  public:
    // `type`: counter, gauge or histogram.
    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, const Labels& labels, double value);
    void sample(std::string_view name, double value) { sample(name, {}, value); }
    const std::string& text() const { return text_; }

  private:
    std::string text_;
};

std::string escape_label_value(std::string_view value);

}  // namespace btd::rpc::transport
