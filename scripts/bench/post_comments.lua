-- wrk: POST /api/papers/{id}/comments, each request as the next member
-- (tokens from $TOKENS) on a random paper (ids from $IDS).
local tokens, ids = {}, {}
for line in io.lines(os.getenv("TOKENS") or "tokens.txt") do tokens[#tokens + 1] = line end
for line in io.lines(os.getenv("IDS") or "talk-ids.txt") do ids[#ids + 1] = line end
local n = 0
math.randomseed(7)
request = function()
  n = n + 1
  local body = '{"body": "Benchmark comment ' .. n .. ': does the *merge* hold out of distribution? $\\\\alpha_i$"}'
  return wrk.format("POST", "/api/papers/" .. ids[math.random(#ids)] .. "/comments",
    { ["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1], ["Content-Type"] = "application/json" }, body)
end
response = function(status, headers, body)
  if status ~= 201 then io.stderr:write(status .. " " .. body .. "\n") end
end
