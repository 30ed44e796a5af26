-- wrk script for benchmarks/ingest.py: POSTs distinct alerts, one or a batch per request.
--
--   wrk -t1 -c64 -d15s -s ingest.lua http://127.0.0.1:PORT -- MODE BATCH TAG KEY STARTS_AT
--
-- MODE is "native" (OnCallNova POST /api/v1/alerts, X-Routing-Key: KEY; a batch of 1 is
-- sent as a bare object, larger batches as a list) or "alertmanager" (POST /api/v2/alerts,
-- always a list). Every alert is unique: TAG (one per run) + thread number + a counter go
-- into the dedup key / title (native) or the `instance` label (Alertmanager). Severities
-- cycle through the four levels. `done` prints one JSON line that ingest.py reads.
--
-- With INGEST_PORTS=P1,P2,... in the environment, thread n connects to 127.0.0.1 on port
-- P(n mod count) instead of the URL's: one run spreads its threads (and connections)
-- over several front ends, and its latency figures cover all of them.

local threads = {}
local ports = {}
for port in string.gmatch(os.getenv("INGEST_PORTS") or "", "%d+") do
  table.insert(ports, port)
end

function setup(thread)
  if #ports > 0 then
    thread.addr = wrk.lookup("127.0.0.1", ports[#threads % #ports + 1])[1]
  end
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local SEVERITIES = { "critical", "high", "medium", "low" }
local AM_SEVERITIES = { "critical", "warning", "warning", "info" }
local NATIVE = '{"title":"bench alert %s-%d-%d","severity":"%s","source":"bench",'
  .. '"labels":{"instance":"host-%d","job":"bench"},"dedup_key":"%s-%d-%d"}'
local AM = '{"labels":{"alertname":"BenchAlert","instance":"%s-%d-%d","job":"bench",'
  .. '"severity":"%s"},"annotations":{"summary":"bench alert %s-%d-%d"},"startsAt":"%s"}'

local mode, batch, tag, path, headers, starts_at
local n = 0

function init(args)
  mode = args[1]
  batch = tonumber(args[2])
  tag = args[3]
  starts_at = args[5]
  headers = { ["Content-Type"] = "application/json" }
  if mode == "native" then
    path = "/api/v1/alerts"
    headers["X-Routing-Key"] = args[4]
  else
    path = "/api/v2/alerts"
  end
end

local function alert()
  n = n + 1
  local s = n % 4 + 1
  if mode == "native" then
    return string.format(NATIVE, tag, tid, n, SEVERITIES[s], n % 500, tag, tid, n)
  end
  return string.format(AM, tag, tid, n, AM_SEVERITIES[s], tag, tid, n, starts_at)
end

function request()
  local body
  if mode == "native" and batch == 1 then
    body = alert()
  else
    local parts = {}
    for i = 1, batch do
      parts[i] = alert()
    end
    body = "[" .. table.concat(parts, ",") .. "]"
  end
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,'
      .. '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,'
      .. '"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean
  ))
end
