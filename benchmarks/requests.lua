-- wrk script for benchmarks/wrk.py: replays a list of requests, optionally paced.
--
-- [SY_WRK_RATE=R] wrk -t1 -c32 -d8s -s benchmarks/requests.lua URL -- REQUESTS HEADERS
--   REQUESTS: one request a line, METHOD <tab> PATH [<tab> BODY] (no newline in a body)
--   HEADERS:  "Name: value" lines sent with every request
--   SY_WRK_RATE: requests a second for each thread; unset = as fast as the
--     server answers. An environment variable, not an argument: wrk decides
--     whether the script paces (defines delay()) before init() sees arguments,
--     and an unpaced run must not pay for a timer per request.
--
-- Pacing (wrk2's idea, without its latency correction): all connections of a
-- thread share one schedule, one slot every 1000/RATE ms; a connection that
-- becomes free waits for the next slot. A server that falls behind gets the
-- missed slots at once, up to a second of them, so its queueing shows in the
-- latencies instead of silently lowering the rate. The percentiles are
-- wrk's own (from send to answer); done() prints them as one JSON line.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } sy_timespec;
int clock_gettime(int clk_id, sy_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local ts = ffi.new("sy_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local requests = {}
local n = 0
local i = 0
local interval = 0
local next_at = 0

function init(args)
  local headers = {}
  for line in io.lines(args[2]) do
    local name, value = line:match("^([^:]+):%s*(.*)$")
    if name then
      headers[name] = value
    end
  end
  for line in io.lines(args[1]) do
    local method, path, body = line:match("^(%u+)\t([^\t]+)\t?(.*)$")
    if method then
      if body == "" then
        body = nil
      end
      -- Formatted once here: request() then costs wrk nothing per call.
      requests[#requests + 1] = wrk.format(method, path, headers, body)
    end
  end
  n = #requests
end

function request()
  i = i % n + 1
  return requests[i]
end

local rate = tonumber(os.getenv("SY_WRK_RATE") or "")
if rate and rate > 0 then
  interval = 1000 / rate
  function delay()
    local now = now_ms()
    if next_at == 0 or next_at < now - 1000 then
      next_at = now
    end
    next_at = next_at + interval
    local wait = next_at - interval - now
    if wait < 0 then
      return 0
    end
    return wait
  end
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'SYWRK {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,'
      .. '"max_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout
  ))
end
