-- SPDX-License-Identifier: GPL-3.0-or-later
-- public.lua: the wrk script of bench-public.py, the load of the hub's
-- public entry points: self-registration on the web and the WhatsApp
-- webhook. Every request is one nobody sent before. Modes:
--   register TOKEN COOKIE CATEGORY DAY
--       POST /register, the form as a browser sends it: the CSRF token
--       (taken from GET /register beside the cookie it is bound to, both
--       reused for every request: the hub keys a form by token and fields
--       together), category id, day (YYYY-MM-DD), party 1, and a phone
--       number of its own: "9", the thread, then a count of 8 digits.
--   admit
--       the same phone numbers as JSON {"code": …, "gate": "Gate 1"} to
--       POST /api/v1/admit: the load bench-bare-handler answers.
--   webhook BODIES
--       POST /webhooks/whatsapp, one line of the file BODIES a request:
--       the X-Hub-Signature-256 value, a tab, the body. Thread i of T
--       takes lines i, i+T, …; a thread that runs out stops (and says so)
--       rather than send a body twice.
-- Run it as
--   wrk -t2 -c64 -d10s -s public.lua URL -- THREADS MODE ARGS…
-- with THREADS equal to -t; wrk itself runs until -d is up or it gets a
-- SIGINT, which bench-public.py sends once the hub has taken every body.
-- At the end it prints one line `public.lua {…}` of JSON on stdout: what
-- wrk measured (latencies in µs), the requests started, the answers by
-- status, and whether a thread ran out. Counting answers by status makes
-- wrk hand every response to Lua, a cost it pays on the same cores for the
-- hub and the bare handler alike.

local threads = {}

-- Runs in the main Lua state, once per thread before it starts.
function setup(thread)
  thread:set("thread_id", #threads)
  threads[#threads + 1] = thread
end

local mode
local verifying
local n_threads
-- Globals, not locals: done() reads them with thread:get().
sent = 0 -- requests made for sending (also the count in the phone numbers)
ran_out = false
statuses = {}
local register_head, register_tail
local headers = {}
local bodies, signatures = {}, {}

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

-- Runs in each thread's own Lua state.
function init(args)
  verifying = thread_id == 0
  n_threads = tonumber(args[1] or "2")
  mode = args[2]
  if mode == "register" then
    local token, cookie, category, day = args[3], args[4], args[5], args[6]
    if day == nil then
      error("public.lua: register takes TOKEN COOKIE CATEGORY DAY")
    end
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers["Cookie"] = cookie
    register_head = "csrf=" .. urlencode(token) .. "&name=Bench+Visitor&phone="
    register_tail = "&category=" .. urlencode(category) .. "&day=" .. urlencode(day) .. "&party=1"
  elseif mode == "admit" then
    headers["Content-Type"] = "application/json"
  elseif mode == "webhook" then
    local path = args[3]
    if path == nil then
      error("public.lua: webhook takes BODIES")
    end
    headers["Content-Type"] = "application/json"
    headers["User-Agent"] = "facebookexternalua"
    local file = assert(io.open(path, "r"))
    local line_no = 0
    for line in file:lines() do
      if line ~= "" then
        if line_no % n_threads == thread_id then
          local tab = line:find("\t", 1, true)
          signatures[#signatures + 1] = line:sub(1, tab - 1)
          bodies[#bodies + 1] = line:sub(tab + 1)
        end
        line_no = line_no + 1
      end
    end
    file:close()
    if #bodies == 0 then
      error("public.lua: no bodies for thread " .. thread_id .. " in " .. path)
    end
  else
    error("public.lua: MODE is register, admit or webhook")
  end
end

-- The request for count @n of this thread (from 1), or nil when the
-- bodies ran out.
local function make(n)
  if mode == "webhook" then
    if n > #bodies then
      return nil
    end
    headers["X-Hub-Signature-256"] = signatures[n]
    return wrk.format("POST", "/webhooks/whatsapp", headers, bodies[n])
  end
  local phone = string.format("9%d%08d", thread_id, n)
  if mode == "register" then
    return wrk.format("POST", "/register", headers, register_head .. phone .. register_tail)
  end
  return wrk.format("POST", "/api/v1/admit", headers, '{"code":"' .. phone .. '","gate":"Gate 1"}')
end

function request()
  -- wrk asks thread 0's script for one request before the run, to check
  -- it, and never sends it: that one takes no body and counts nothing.
  if verifying then
    verifying = false
    return make(sent + 1) or make(1)
  end
  local req = make(sent + 1)
  if req == nil then
    -- Stopped, not sent again: a repeated body is taken but not acted on
    -- twice, which would flatter the figure. The request returned is one
    -- the hub refuses without touching its store.
    ran_out = true
    wrk.thread:stop()
    return wrk.format("GET", "/webhooks/whatsapp", nil, nil)
  end
  sent = sent + 1
  return req
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

-- Runs in the main Lua state once the run is over.
function done(summary, latency, requests)
  local total_sent, any_ran_out, by_status = 0, false, {}
  for _, thread in ipairs(threads) do
    total_sent = total_sent + thread:get("sent")
    any_ran_out = any_ran_out or thread:get("ran_out")
    for status, count in pairs(thread:get("statuses")) do
      by_status[status] = (by_status[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(by_status) do
    parts[#parts + 1] = string.format('"%d":%d', status, count)
  end
  local e = summary.errors
  io.write(string.format(
    'public.lua {"requests":%d,"duration_us":%d,"bytes":%d,"sent":%d,"ran_out":%s,"statuses":{%s},' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes, total_sent, tostring(any_ran_out),
    table.concat(parts, ","),
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
