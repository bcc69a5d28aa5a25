-- SPDX-License-Identifier: GPL-3.0-or-later
-- admit.lua: the wrk script of bench-sync.py's online admission figure. It
-- POSTs {"code": "PV1:…", "gate": "Gate 1"} to /api/v1/admit, each request
-- with the next code of a file of codes (one a line, as `pravesh-ctl ticket
-- issue` prints them), so that every request is a first admission until the
-- file runs out (then it starts again and the hub answers ALREADY_USED).
-- Thread i of T takes lines i, i+T, i+2T, … so no two threads send the same
-- code. Run it as
--   wrk -t2 -c64 -d10s --latency -s admit.lua URL -- CODES [THREADS [GATE [TOKEN]]]
-- or give PV_BENCH_CODES, PV_BENCH_THREADS, PV_BENCH_GATE and
-- PV_BENCH_TOKEN in the environment instead; THREADS must equal -t
-- (default 2); TOKEN, a device's bearer token (`pravesh-ctl token`), goes
-- into every request's Authorization header when given. With
-- PV_BENCH_DELAY_MS each connection waits that long between an answer and
-- its next request, as a gate between visitors does: a paced probe of
-- latency, not a load. At the end it
-- prints one line `admit.lua {…}` of JSON on stdout with what wrk measured,
-- latencies in µs, for a program to read instead of wrk's table.

local next_id = 0

-- Runs in the main Lua state, once per thread before it starts.
function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

local bodies = {}
local cursor = 1
local headers = { ["Content-Type"] = "application/json" }

-- Runs in each thread's own Lua state.
function init(args)
  local path = args[1] or os.getenv("PV_BENCH_CODES")
  local threads = tonumber(args[2] or os.getenv("PV_BENCH_THREADS") or "2")
  local gate = args[3] or os.getenv("PV_BENCH_GATE") or "Gate 1"
  local token = args[4] or os.getenv("PV_BENCH_TOKEN")
  if token ~= nil and token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  if path == nil then
    error("admit.lua: give the file of codes as `-- CODES` or in PV_BENCH_CODES")
  end
  local file = assert(io.open(path, "r"))
  local gate_json = json_string(gate)
  local line_no = 0
  for line in file:lines() do
    if line ~= "" then
      if line_no % threads == thread_id then
        bodies[#bodies + 1] = '{"code":' .. json_string(line) .. ',"gate":' .. gate_json .. '}'
      end
      line_no = line_no + 1
    end
  end
  file:close()
  if #bodies == 0 then
    error("admit.lua: no codes for thread " .. thread_id .. " in " .. path)
  end
  -- wrk paces requests only when the script has a delay() at all.
  local pause = tonumber(os.getenv("PV_BENCH_DELAY_MS") or "0")
  if pause > 0 then
    delay = function()
      return pause
    end
  end
end

function request()
  local body = bodies[cursor]
  cursor = cursor % #bodies + 1
  return wrk.format("POST", "/api/v1/admit", headers, body)
end

-- Runs in the main Lua state once the run is over.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'admit.lua {"requests":%d,"duration_us":%d,"bytes":%d,"rate":%.1f,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
