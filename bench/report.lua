-- wrk script for the load benchmark: counts every response that is not 2xx (wrk itself counts
-- only 4xx and 5xx), optionally rotates over the paths given after "--", and prints one
-- machine-readable line at the end: requests, seconds, requests/s, latency percentiles (ms),
-- non-2xx responses and socket errors.
local threads = {}
local paths = {}
local counter = 0
non2xx = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  for _, path in ipairs(args) do
    table.insert(paths, path)
  end
  counter = id or 0
end

function request()
  if #paths == 0 then
    return wrk.request()
  end
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.2f p50=%.3f p95=%.3f p99=%.3f max=%.3f " ..
    "non2xx=%d connect=%d read=%d write=%d timeout=%d bytes=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, bad,
    e.connect, e.read, e.write, e.timeout, summary.bytes))
end
