// Preloaded into the test run's Azurite (node --require): Azurite exits when the test process that started it is
// gone, even when that process was killed and could not stop it.
const parent = Number(process.env.EXIT_WITH_PARENT_PID);
if (parent > 0) {
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      process.exit(0);
    }
  }, 1000).unref();
}
