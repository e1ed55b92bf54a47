// PM2 (see "Running under PM2" in README.md).
//   pm2 start ecosystem.config.cjs                   sandbox mode when there is no config/local.json
//   pm2 start ecosystem.config.cjs --env production  config/local.json, which must exist
// Secrets never go here: `pm2 save` copies this env into ~/.pm2/dump.pm2 in clear. They go in
// .env next to this file (mode 600), which odoo-paylink itself reads at start, or in files named
// by …_FILE variables.
module.exports = {
  apps: [
    {
      name: 'odoo-paylink',
      script: 'dist/cli.js',
      args: 'run --log-format json',
      cwd: __dirname,
      // One copy in fork mode: the daemon is the single writer of its store and of the links in
      // Odoo. A second copy or cluster mode is refused at start (exit 78).
      exec_mode: 'fork',
      instances: 1,
      // The daemon sends process.send('ready') once Odoo answered and the schedules started.
      wait_ready: true,
      listen_timeout: 30000,
      // 78 is a configuration error (bad config, refused copy, store held by another daemon):
      // restarting cannot fix it, so PM2 leaves the app stopped.
      stop_exit_codes: [78],
      // On SIGINT the daemon takes no new work, lets the passes in flight finish for
      // shutdown.graceMs (20 s by default), aborts their Odoo and gateway calls and is gone 5 s
      // later at most: kill_timeout stays above that, so PM2 never needs SIGKILL.
      kill_timeout: 30000,
      max_restarts: 20,
      exp_backoff_restart_delay: 1000,
      // Info goes to the out log, warnings and errors to the error log; rotate both with
      // pm2-logrotate (README).
      merge_logs: true,
      env: {
        NODE_ENV: 'production',
      },
      env_production: {
        NODE_ENV: 'production',
        PAYLINK_CONFIG: 'config/local.json',
      },
    },
  ],
};
