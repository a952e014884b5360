// Example parameters. Secrets are never written here: they come from the environment of the shell that deploys,
// e.g. JWT_SIGNING_KEY="$(openssl rand -base64 48)" ADMIN_PASSWORD='...' az deployment group create ...
using 'main.bicep'

param environmentName = 'serverless'

// Empty: links use https://<function app default host name>. Set it once a custom domain is in front of the app.
param publicBaseUrl = ''

param adminEmail = 'admin@example.com'

// No default: without the variable the file does not compile, so nobody deploys an empty signing key.
param adminPassword = readEnvironmentVariable('ADMIN_PASSWORD')

param jwtSigningKey = readEnvironmentVariable('JWT_SIGNING_KEY')

// Optional providers: an empty value deploys without that provider.
param razorpayKeySecret = readEnvironmentVariable('RAZORPAY_KEY_SECRET', '')

param stripeSecretKey = readEnvironmentVariable('STRIPE_SECRET_KEY', '')

param resendApiKey = readEnvironmentVariable('RESEND_API_KEY', '')

// Non-secret settings the app reads besides the ones main.bicep sets, e.g. { RAZORPAY_KEY_ID: 'rzp_live_...' }.
param additionalAppSettings = {}

param maximumInstanceCount = 100

param instanceMemoryMB = 2048
