-- wrk: GET each line of the file named by $WRK_REQUESTS in turn ("<path> <bearer token>"),
-- so that a run spreads over many children as families would; print p50/p95/p99 at the end
-- (wrk's own --latency report has no 95th percentile).
local requests = {}
local next_index = 0

function init(_)
  -- Built here, not when the script loads: wrk sets the Host header just before init().
  for line in io.lines(os.getenv("WRK_REQUESTS")) do
    local path, token = line:match("^(%S+) (%S+)$")
    requests[#requests + 1] = wrk.format("GET", path, { Authorization = "Bearer " .. token })
  end
end

function request()
  next_index = next_index + 1
  return requests[(next_index % #requests) + 1]
end

function done(summary, latency, _)
  io.write(string.format("BENCH requests=%d seconds=%.3f non_2xx=%d socket_errors=%d "
    .. "p50_us=%d p95_us=%d p99_us=%d\n",
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
