-- wrk: GET /papers/{id} for ids read from ids.txt (one per line), at random.
local ids = {}
for line in io.lines(os.getenv("IDS") or "ids.txt") do ids[#ids + 1] = line end
math.randomseed(42)
request = function()
  return wrk.format("GET", "/papers/" .. ids[math.random(#ids)])
end
