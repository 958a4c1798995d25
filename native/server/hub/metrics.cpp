#include "hub/metrics.hpp"

namespace progress::server {
namespace {

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, const char* name, std::uint64_t value, const std::string& labels = {}) {
  out += name;
  if (!labels.empty()) out += "{" + labels + "}";
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

}  // namespace

std::string render_metrics(const hub_service& hub, const http_metrics& http) {
  const HubStats stats = hub.stats();
  std::string out;
  family(out, "progress_connections", "gauge", "Open WebSocket and SSE streams.");
  sample(out, "progress_connections", stats.connections);
  family(out, "progress_subscriptions", "gauge", "Active subscriptions.");
  sample(out, "progress_subscriptions", stats.subscriptions);
  family(out, "progress_pending_subscriptions", "gauge", "Subscriptions waiting for an unknown process.");
  sample(out, "progress_pending_subscriptions", stats.pending_subscriptions);
  family(out, "progress_processes", "gauge", "Process records by state.");
  for (const State s : {State::pending, State::running, State::completed, State::failed, State::cancelled}) {
    const auto it = stats.processes_by_state.find(s);
    sample(out, "progress_processes", it == stats.processes_by_state.end() ? 0 : it->second,
           "state=\"" + std::string(to_string(s)) + "\"");
  }
  family(out, "progress_history_bytes", "gauge", "Memory held by the resume histories of all processes.");
  sample(out, "progress_history_bytes", stats.history_bytes);
  family(out, "progress_history_budget_bytes", "gauge", "The bound of progress_history_bytes (--history-budget-bytes).");
  sample(out, "progress_history_budget_bytes", hub.config().history_budget_bytes);
  family(out, "progress_queued_bytes", "gauge", "Unsent bytes over all connection queues.");
  sample(out, "progress_queued_bytes", hub.total_queued_bytes());
  family(out, "progress_frames_in_total", "counter", "Frames received.");
  sample(out, "progress_frames_in_total", stats.frames_in);
  family(out, "progress_frames_out_total", "counter", "Frames queued for sending.");
  sample(out, "progress_frames_out_total", stats.frames_out);
  family(out, "progress_publishes_total", "counter", "Accepted publishes.");
  sample(out, "progress_publishes_total", stats.publishes);
  family(out, "progress_conflated_total", "counter", "Frames dropped by conflation for slow consumers.");
  sample(out, "progress_conflated_total", stats.conflated);
  family(out, "progress_slow_disconnects_total", "counter", "Connections closed 1013 over their queue bound.");
  sample(out, "progress_slow_disconnects_total", stats.slow_disconnects);
  family(out, "progress_errors_total", "counter", "Error frames and responses by code.");
  for (const auto& [code, count] : stats.errors_by_code) {
    sample(out, "progress_errors_total", count, "code=\"" + std::string(to_string(code)) + "\"");
  }
  family(out, "progress_http_requests_total", "counter", "HTTP requests by route and status.");
  for (const auto& [key, count] : http.requests) {
    sample(out, "progress_http_requests_total", count,
           "route=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"");
  }
  family(out, "progress_uploads_total", "counter", "Uploads accepted.");
  sample(out, "progress_uploads_total", http.uploads_accepted);
  family(out, "progress_handler_failures_total", "counter",
         "Exceptions caught while handling one connection (that connection was closed).");
  sample(out, "progress_handler_failures_total", http.handler_failures);
  family(out, "progress_upload_bytes_total", "counter", "Bytes of accepted uploads.");
  sample(out, "progress_upload_bytes_total", http.upload_bytes);
  family(out, "progress_jobs_total", "counter", "Document jobs finished by outcome.");
  sample(out, "progress_jobs_total", http.jobs_completed, "outcome=\"completed\"");
  sample(out, "progress_jobs_total", http.jobs_failed, "outcome=\"failed\"");
  family(out, "progress_uptime_seconds", "gauge", "Seconds since start.");
  sample(out, "progress_uptime_seconds", static_cast<std::uint64_t>((clock_now().mono - http.started_at) / 1000));
  return out;
}

}  // namespace progress::server
