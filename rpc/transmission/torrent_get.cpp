// torrent-get: the requested fields of the selected torrents, as objects or as a table, written
// as JSON text during one walk over the torrents' statuses (no vector of statuses, no JSON tree).
#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "rpc/methods/json_writer.hpp"
#include "rpc/transmission/arguments.hpp"
#include "rpc/transmission/torrent_view.hpp"
#include "rpc/transmission/transmission_rpc.hpp"
#include "rpc/transport/json_parse.hpp"

namespace btd::rpc::transmission {
namespace {

using nlohmann::json;
using Context = TransmissionRpc::Context;

std::vector<std::string> requested_fields(const json& args) {
    auto it = args.find("fields");
    if (it == args.end() || !it->is_array())
        throw MethodError("torrent-get: give \"fields\", the list of fields to return");
    std::vector<std::string> fields;
    for (const auto& f : *it)
        if (f.is_string() && torrent_fields().count(f.get<std::string>()))
            fields.push_back(f.get<std::string>());
    return fields;
}

std::int64_t now_unix() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// One field of the reply, resolved once per request.
struct Column {
    std::string_view name;
    FieldWriter text;  // null: dump the tree's value
    const FieldFn* tree;
};

// Objects list each field once, in name order (as a dumped JSON object does); a table keeps the
// fields as asked, repeats included.
std::vector<Column> columns_of(const std::vector<std::string>& fields, bool table) {
    std::vector<Column> out;
    for (const auto& f : fields) {
        auto entry = torrent_fields().find(f);
        out.push_back({entry->first, torrent_field_writer(f), &entry->second});
    }
    if (table) return out;
    auto by_name = [](const Column& a, const Column& b) { return a.name < b.name; };
    std::sort(out.begin(), out.end(), by_name);
    auto same = [](const Column& a, const Column& b) { return a.name == b.name; };
    out.erase(std::unique(out.begin(), out.end(), same), out.end());
    return out;
}

void append_value(std::string& out, const Column& column, const TorrentView& view) {
    if (column.text)
        column.text(out, view);
    else
        out += dump_json((*column.tree)(view));
}

void append_row(std::string& out, const std::vector<Column>& columns, const TorrentView& view,
                bool table) {
    out += table ? '[' : '{';
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (i) out += ',';
        if (!table) {
            append_json_string(out, columns[i].name);
            out += ':';
        }
        append_value(out, columns[i], view);
    }
    out += table ? ']' : '}';
}

// Each selected torrent's row, in the order of the walk; the reply wants them by id.
struct Rows {
    std::string text;
    struct Row {
        int id;
        std::size_t begin, end;
    };
    std::vector<Row> rows;
};

Rows write_rows(Context& c, const TorrentFilter& filter, const std::vector<Column>& columns,
                bool table) {
    Rows out;
    auto now = now_unix();
    c.session.for_each_status([&](const TorrentStatus& status) {
        if (!filter.selects(status, now)) return;
        int id = c.ids.id_of(status.id);
        auto begin = out.text.size();
        append_row(out.text, columns, TorrentView(c.session, status, id, status.queue_position),
                   table);
        out.rows.push_back({id, begin, out.text.size()});
    });
    std::sort(out.rows.begin(), out.rows.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    return out;
}

void append_header(std::string& out, const std::vector<Column>& columns) {
    out += '[';
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (i) out += ',';
        append_json_string(out, columns[i].name);
    }
    out += ']';
}

// {"removed":[..],"torrents":[..]}: members in name order, as a dumped object has them.
std::string torrent_get(Context& c, const json& args) {
    reject_unsupported(args, "torrent-get", {"ids", "fields", "format"});
    auto fields = requested_fields(args);
    auto format = get_string(args, "format").value_or("objects");
    if (format != "objects" && format != "table")
        throw MethodError("torrent-get: format must be \"objects\" or \"table\"");
    bool table = format == "table";
    std::optional<TorrentFilter> filter;
    try {
        filter.emplace(args, c.ids);
    } catch (const std::invalid_argument& e) {
        throw MethodError(std::string("torrent-get: ") + e.what());
    }
    auto columns = columns_of(fields, table);
    auto rows = write_rows(c, *filter, columns, table);
    std::string out = "{";
    if (filter->recently_active())
        out +=
            "\"removed\":" + dump_json(c.ids.removed_since(Clock::now() - kRecentlyActive)) + ',';
    out.reserve(out.size() + rows.text.size() + rows.rows.size() + 32);
    out += "\"torrents\":[";
    bool first = true;
    if (table) {
        append_header(out, columns);
        first = false;
    }
    for (const auto& row : rows.rows) {
        if (!first) out += ',';
        first = false;
        out.append(rows.text, row.begin, row.end - row.begin);
    }
    out += "]}";
    return out;
}

}  // namespace

void register_torrent_get(const TextRegistrar& add, Context& c) {
    add("torrent-get", [&c](const json& args) { return torrent_get(c, args); });
}

}  // namespace btd::rpc::transmission
