// PM2: one instance in fork mode (SQLite has a single writer). `wait_ready` waits for the daemon's
// process.send('ready'), sent once Odoo answered and the schedules started. kill_timeout leaves
// the passes in flight time to finish their Odoo calls before PM2 sends SIGKILL.
module.exports = {
  apps: [
    {
      name: 'odoo-paylink',
      script: 'dist/cli.js',
      args: 'run --log-format json',
      exec_mode: 'fork',
      instances: 1,
      wait_ready: true,
      listen_timeout: 30000,
      kill_timeout: 60000,
      max_restarts: 20,
      exp_backoff_restart_delay: 1000,
      env: {
        NODE_ENV: 'production',
        PAYLINK_CONFIG: 'config/local.json',
      },
    },
  ],
};
