-- wrk: GET /api/papers/{id}/comments for ids read from $IDS, at random.
local ids = {}
for line in io.lines(os.getenv("IDS") or "hot-ids.txt") do ids[#ids + 1] = line end
math.randomseed(42)
request = function()
  return wrk.format("GET", "/api/papers/" .. ids[math.random(#ids)] .. "/comments")
end
