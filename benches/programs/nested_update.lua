-- nested_update: JSON-like state (nested tables) updated in place by events.
local function step(state, i)
  local name = "u" .. (i % 50)
  local user = state.users[name]
  if not user then user = {}; state.users[name] = user end
  user.visits = (user.visits or 0) + 1
  user.last = i
  state.stats.total = state.stats.total + i % 7
  return state
end

local function run(n)
  local state = {users = {}, stats = {total = 0}}
  for i = 0, n - 1 do state = step(state, i) end
  return state.stats.total + state.users["u7"].visits + state.users["u7"].last
end

print(run(100000))
