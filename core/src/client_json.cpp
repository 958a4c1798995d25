#include "progress/client_json.hpp"

#include <stdexcept>
#include <string>
#include <variant>

#include "progress/json_writer.hpp"

namespace progress {
namespace {

using namespace json_writer;
using Object = ObjectWriter<std::string>;

// Keys in byte order, as dump() wrote them when these were Json trees.
void write_display(std::string& out, const Display& d) {
  Object o(out);
  o.string("error_code", d.error_code);
  o.string("error_text", d.error_text);
  if (d.eta_ms) o.integer("eta_ms", *d.eta_ms);
  o.string("eta_text", d.eta_text);
  append_float(o.key("percent"), d.percent);
  o.string("percent_text", d.percent_text);
  o.key("stages") += '[';
  for (const auto& span : d.stages) {
    if (&span != d.stages.data()) out += ',';
    Object s(out);
    s.string("duration_text", span.duration_text);
    s.string("label", span.label);
    s.close();
  }
  out += ']';
  o.string("status", d.status);
  o.string("status_text", d.status_text);
  o.key("terminal") += d.terminal ? "true" : "false";
  o.string("title", d.title);
  o.close();
}

// An error, or a view's failure (`with_process_id` false: the view names its process already).
void write_error_object(std::string& out, const Error& error, bool with_process_id) {
  Object o(out);
  o.string("code", to_string(error.code));
  o.string("message", error.message);
  if (with_process_id && error.process_id) o.string("process_id", *error.process_id);
  if (error.reason) o.string("reason", to_string(*error.reason));
  o.close();
}

struct ActionWriter {
  std::string& out;
  void operator()(const Connect& a) const {
    Object o(out);
    Object c(o.key("connect"));
    c.integer("generation", a.generation);
    c.string("url", a.url);
    c.close();
    o.close();
  }
  // The frame stays text: a host sends it as is.
  void operator()(const Send& a) const {
    Object o(out);
    o.integer("generation", a.generation);
    o.string("send", a.text);
    o.close();
  }
  void operator()(const Close& a) const {
    Object o(out);
    Object c(o.key("close"));
    c.integer("code", a.code);
    c.integer("generation", a.generation);
    c.string("reason", a.reason);
    c.close();
    o.close();
  }
  void operator()(const SetTimer& a) const {
    Object o(out);
    if (a.at) {
      o.integer("set_timer", a.at->count());
    } else {
      o.key("set_timer") += "null";
    }
    o.close();
  }
  void operator()(const NeedToken& a) const {
    Object o(out);
    o.string("need_token", a.process_id);
    o.close();
  }
};

struct EventWriter {
  std::string& out;
  void operator()(const StateChanged& e) const {
    Object o(out);
    o.string("label", connection_label(e.state));
    o.string("state", to_string(e.state));
    o.close();
  }
  void operator()(const WatchRemoved& e) const {
    Object o(out);
    o.string("removed", e.process_id);
    o.close();
  }
  void operator()(const ProgressChanged& e) const {
    Object o(out);
    write_view(o.key("progress"), e.view);
    o.close();
  }
  void operator()(const ErrorEvent& e) const {
    Object o(out);
    write_error(o.key("error"), e.error);
    o.close();
  }
};

}  // namespace

void write_error(std::string& out, const Error& error) { write_error_object(out, error, true); }

void write_view(std::string& out, const ProcessView& view) {
  Object o(out);
  o.json("data", plain(view.data));
  write_display(o.key("display"), view.display);
  o.string("epoch", view.epoch);
  if (view.error) o.json("error", *view.error);
  if (view.eta_ms) o.integer("eta_ms", *view.eta_ms);
  if (view.failure) write_error_object(o.key("failure"), *view.failure, false);
  o.string("message", plain(view.message));
  append_float(o.key("percent"), view.percent);
  o.string("process_id", view.process_id);
  if (view.result) o.json("result", *view.result);
  o.integer("seq", view.seq);
  o.string("stage", view.stage);
  o.key("stages") += '[';
  for (const auto& span : view.stages) {
    if (&span != view.stages.data()) out += ',';
    Object s(out);
    if (span.ended_at) s.integer("ended_at", *span.ended_at);
    s.string("name", span.name);
    s.integer("started_at", span.started_at);
    s.close();
  }
  out += ']';
  o.string("state", to_string(view.state));
  o.string("status", to_string(view.status));
  o.integer("updated_at", view.updated_at);
  o.close();
}

void write_action(std::string& out, const Action& action) { std::visit(ActionWriter{out}, action); }

void write_event(std::string& out, const ClientEvent& event) { std::visit(EventWriter{out}, event); }

ClientConfig client_config_from_json(const Json& overrides, ClientConfig config) {
  if (!overrides.is_object()) throw std::invalid_argument("client options must be a JSON object");
  for (const auto& [key, value] : overrides.items()) {
    if (key == "url") config.url = value.get<std::string>();
    else if (key == "seed") config.seed = value.get<std::uint64_t>();
    else if (key == "backoff_min_ms") config.backoff_min_ms = value.get<std::int64_t>();
    else if (key == "backoff_max_ms") config.backoff_max_ms = value.get<std::int64_t>();
    else if (key == "heartbeat_ms") config.heartbeat_ms = value.get<std::int64_t>();
    else if (key == "stale_grace_ms") config.stale_grace_ms = value.get<std::int64_t>();
    else if (key == "connect_timeout_ms") config.connect_timeout_ms = value.get<std::int64_t>();
    else if (key == "suspend_after_ms") config.suspend_after_ms = value.get<std::int64_t>();
    else if (key == "suspended_retry_ms") config.suspended_retry_ms = value.get<std::int64_t>();
    else if (key == "probe_timeout_ms") config.probe_timeout_ms = value.get<std::int64_t>();
    else if (key == "min_stable_ms") config.min_stable_ms = value.get<std::int64_t>();
    else if (key == "clock_jump_ms") config.clock_jump_ms = value.get<std::int64_t>();
    else if (key == "linger_ms") config.linger_ms = value.get<std::int64_t>();
    else if (key == "tokens") config.tokens = value.get<bool>();
    else if (key == "token_timeout_ms") config.token_timeout_ms = value.get<std::int64_t>();
    else throw std::invalid_argument("unknown client option " + key);
  }
  return config;
}

}  // namespace progress
