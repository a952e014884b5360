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

param commerceGasFeeSigningKey = readEnvironmentVariable('COMMERCE_GAS_FEE_SIGNING_KEY')

// Optional providers: an empty value deploys without that provider.
param razorpayKeySecret = readEnvironmentVariable('RAZORPAY_KEY_SECRET', '')

param stripeSecretKey = readEnvironmentVariable('STRIPE_SECRET_KEY', '')

param razorpayWebhookSecret = readEnvironmentVariable('RAZORPAY_WEBHOOK_SECRET', '')

param razorpayPayoutAccountNumber = readEnvironmentVariable('RAZORPAY_PAYOUT_ACCOUNT_NUMBER', '')

param stripeWebhookSecret = readEnvironmentVariable('STRIPE_WEBHOOK_SECRET', '')

// razorpay or stripe; empty deploys with no way to pay (the sandbox never runs in Production unless asked).
param paymentsGateway = ''

// Razorpay's key id (rzp_live_...): not a secret; empty deploys without Razorpay.
param razorpayKeyId = ''

param resendApiKey = readEnvironmentVariable('RESEND_API_KEY', '')

// The market rate feed checkout prices with (https, query included); no default: Production cannot run without one.
param checkoutMarketRatesUrl = readEnvironmentVariable('CHECKOUT_MARKET_RATES_URL')

param checkoutMarketRatesApiKey = readEnvironmentVariable('CHECKOUT_MARKET_RATES_API_KEY', '')

// Origins of browser apps that call the API from elsewhere (https://shop.example.com,...); empty allows none.
param corsAllowedOrigins = readEnvironmentVariable('CORS_ALLOWED_ORIGINS', '')

// Print-shop push notifications (FCM): the Firebase project id and its service account's JSON key; empty deploys without push.
param fcmProjectId = readEnvironmentVariable('FCM_PROJECT_ID', '')

param fcmServiceAccountJson = readEnvironmentVariable('FCM_SERVICE_ACCOUNT_JSON', '')

// Non-secret settings the app reads besides the ones main.bicep sets: the print shop's prices and money rules.
param additionalAppSettings = {
  COST_PER_PAGE_BW: '1'
  COST_PER_PAGE_COLOR: '10'
  PLATFORM_COMMISSION: '0'
  Print__Wallet__TopupMin: '10'
  Print__Wallet__TopupMax: '10000'
  Print__Wallet__BalanceCeiling: '50000'
  Print__Wallet__WithdrawMin: '100'
  Print__PaymentOrders__Lifetime: '00:30:00'
  Print__Referral__WelcomeBonus: '25'
  Print__Payouts__Minimum: '100'
  Print__Shops__StaleAfter: '00:05:00'
  Print__Files__MaxFileMegabytes: '20'
  Print__Files__MaxUploadMegabytes: '100'
  Print__Files__MaxFilesPerUpload: '20'
  Print__Files__Retention: '7.00:00:00'
  Print__Files__CodeLookups__PermitLimit: '120'
  Print__Files__CodeLookups__Window: '00:01:00'
  // The Functions host refuses request bodies over 100 MB by default; an upload may be 100 MB of files plus its form.
  FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '106954752'
}

param maximumInstanceCount = 100

param instanceMemoryMB = 2048
