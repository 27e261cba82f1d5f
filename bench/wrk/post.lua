-- POST one GraphQL body ($WRK_BODY) to /graphql, as $WRK_TOKEN's bearer when set.
-- A response counts as ok when it is a 200 without "errors"; done() prints one JSON line.
wrk.method = "POST"
wrk.path = "/graphql"
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("WRK_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
wrk.body = assert(os.getenv("WRK_BODY"), "WRK_BODY is not set")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok, errors = 0, 0
end

function response(status, headers, body)
  if status == 200 and not string.find(body, '"errors"', 1, true) then
    ok = ok + 1
  else
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local ok_total, error_total = 0, 0
  for _, thread in ipairs(threads) do
    ok_total = ok_total + thread:get("ok")
    error_total = error_total + thread:get("errors")
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, '
      .. '"max_ms": %.3f, "ok": %d, "errors": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    ok_total, error_total, e.connect + e.read + e.write + e.timeout + e.status))
end
