-- recordInteraction(PLAY) as $WRK_TOKEN's user, cycling through $WRK_SONGS (comma-separated
-- ids), each request with its own idempotency key. The ids of acknowledged interactions are
-- written to $WRK_ACKS (one a line), so the harness can check each one is stored.
local token = assert(os.getenv("WRK_TOKEN"), "WRK_TOKEN is not set")
local songs = {}
for id in string.gmatch(assert(os.getenv("WRK_SONGS"), "WRK_SONGS is not set"), "[^,]+") do
  table.insert(songs, id)
end
local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. token,
}
local template = '{"query": "mutation($i: RecordInteractionInput!) { recordInteraction(input: $i) '
  .. '{ id } }", "variables": {"i": {"songId": "%s", "kind": "PLAY", "idempotencyKey": "%s"}}}'

local threads = {}
local counter = 0

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  ok, errors, acked = 0, 0, {}
end

function request()
  counter = counter + 1
  local song = songs[(counter % #songs) + 1]
  local key = string.format("wrk-%d-%d", thread_id, counter)
  return wrk.format("POST", "/graphql", headers, string.format(template, song, key))
end

function response(status, headers, body)
  local id = status == 200 and string.match(body, '"recordInteraction":%s*{%s*"id":%s*"(%x+)"')
  if id then
    ok = ok + 1
    table.insert(acked, id)
  else
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local ok_total, error_total = 0, 0
  local out = assert(io.open(assert(os.getenv("WRK_ACKS"), "WRK_ACKS is not set"), "w"))
  for _, thread in ipairs(threads) do
    ok_total = ok_total + thread:get("ok")
    error_total = error_total + thread:get("errors")
    for _, id in ipairs(thread:get("acked")) do
      out:write(id, "\n")
    end
  end
  out:close()
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, '
      .. '"max_ms": %.3f, "ok": %d, "errors": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    ok_total, error_total, e.connect + e.read + e.write + e.timeout + e.status))
end
