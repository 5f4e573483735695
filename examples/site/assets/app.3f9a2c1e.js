// A fingerprinted asset: its name changes when its content does, so it is cached for a year (immutable).
document.querySelector("h1").title = "served " + new Date().toISOString();
