// The whole Azure footprint of the app, deployed into one resource group:
// a Flex Consumption (Linux) function app running the custom handler, its storage account, Key Vault,
// Log Analytics + Application Insights, and one user-assigned identity that is the app's only credential.

targetScope = 'resourceGroup'

@description('Short name of the environment, lowercase letters, digits and hyphens; prefixes every resource name.')
@minLength(2)
@maxLength(16)
param environmentName string = 'serverless'

@description('Azure region of every resource; it must offer Flex Consumption (az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@description('Public https base URL the app builds links with (payment pages, QR codes); empty means the app\'s default host name.')
param publicBaseUrl string = ''

@description('E-mail address of the first admin account.')
param adminEmail string

@description('Password of the first admin account; stored in Key Vault as admin-password.')
@secure()
@minLength(12)
param adminPassword string

@description('HS256 key that signs the app\'s JWTs (at least 32 characters); stored in Key Vault as jwt-signing-key.')
@secure()
@minLength(32)
param jwtSigningKey string

@description('Key that signs commerce gas fee quotes (at least 32 characters, not the JWT key); stored in Key Vault as commerce-gas-fee-signing-key.')
@secure()
@minLength(32)
param commerceGasFeeSigningKey string

@description('Razorpay key secret; leave empty to deploy without Razorpay.')
@secure()
param razorpayKeySecret string = ''

@description('Stripe secret key; leave empty to deploy without Stripe.')
@secure()
param stripeSecretKey string = ''

@description('Razorpay webhook secret (signs the webhooks Razorpay sends); leave empty when not used.')
@secure()
param razorpayWebhookSecret string = ''

@description('RazorpayX account number payouts are made from; leave empty when not used.')
@secure()
param razorpayPayoutAccountNumber string = ''

@description('Stripe webhook signing secret (whsec_...); leave empty when not used.')
@secure()
param stripeWebhookSecret string = ''

@description('The payment provider new payments use: razorpay, stripe, or empty for none (the sandbox is for development only).')
@allowed([
  ''
  'razorpay'
  'stripe'
])
param paymentsGateway string = ''

@description('Razorpay key id (rzp_live_...); not a secret, shown to customers by Razorpay Checkout.')
param razorpayKeyId string = ''

@description('Resend API key; leave empty to deploy without e-mail delivery.')
@secure()
param resendApiKey string = ''

@description('Firebase service account JSON key that sends print-shop push notifications (FCM); leave empty to deploy without push.')
@secure()
param fcmServiceAccountJson string = ''

@description('Firebase project id the print-shop apps receive push notifications from; not a secret. Needed with fcmServiceAccountJson.')
param fcmProjectId string = ''

@description('https URL of the market rate feed checkout prices with, query included; answers {"base":"BRL","rates":{...}}. Required: the app refuses to start in Production without it.')
@minLength(12)
param checkoutMarketRatesUrl string

@description('Key of the market rate feed, sent as a bearer token; stored in Key Vault as checkout-market-rates-api-key. Leave empty for a feed without a key.')
@secure()
param checkoutMarketRatesApiKey string = ''

@description('Comma-separated origins of the browser apps that may call the API (https://shop.example.com,...); empty allows no cross-origin access. * is refused in Production.')
param corsAllowedOrigins string = ''

@description('Further non-secret app settings, e.g. provider key ids and prices.')
param additionalAppSettings object = {}

@description('Queues the app\'s queue triggers listen on.')
param queueNames array = [
  'deadlines'
  'webhooks'
]

@description('Most instances the app may scale out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory of each instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Tags applied to every resource.')
param tags object = {}

// Same resource group and environment name give the same names, so a redeploy updates rather than duplicates.
var resourceToken = toLower(uniqueString(resourceGroup().id, environmentName))
var prefix = toLower(environmentName)
// Storage account names allow no hyphens, and both storage and Key Vault names stop at 24 characters (2 + 9 + 13).
var compactPrefix = take(replace(prefix, '-', ''), 9)
var allTags = union(tags, { environment: environmentName })

var names = {
  identity: 'id-${prefix}-${resourceToken}'
  logAnalytics: 'log-${prefix}-${resourceToken}'
  applicationInsights: 'appi-${prefix}-${resourceToken}'
  storageAccount: 'st${compactPrefix}${resourceToken}'
  keyVault: 'kv${compactPrefix}${resourceToken}'
  plan: 'plan-${prefix}-${resourceToken}'
  functionApp: 'func-${prefix}-${resourceToken}'
  deploymentContainer: 'deployment-package'
}

// One place for the vault's secret names, shared by the vault and by the settings that reference it.
var secretNames = {
  jwtSigningKey: 'jwt-signing-key'
  commerceGasFeeSigningKey: 'commerce-gas-fee-signing-key'
  adminPassword: 'admin-password'
  razorpayKeySecret: 'razorpay-key-secret'
  stripeSecretKey: 'stripe-secret-key'
  razorpayWebhookSecret: 'razorpay-webhook-secret'
  razorpayPayoutAccountNumber: 'razorpay-payout-account-number'
  stripeWebhookSecret: 'stripe-webhook-secret'
  resendApiKey: 'resend-api-key'
  fcmServiceAccountJson: 'fcm-service-account-json'
  checkoutMarketRatesApiKey: 'checkout-market-rates-api-key'
}

// Created before the app so its roles are in place (and propagating) before the host first starts.
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: names.identity
  location: location
  tags: allTags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    tags: allTags
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    tags: allTags
    storageAccountName: names.storageAccount
    deploymentContainerName: names.deploymentContainer
    queueNames: queueNames
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    location: location
    tags: allTags
    keyVaultName: names.keyVault
    secretNames: secretNames
    jwtSigningKey: jwtSigningKey
    commerceGasFeeSigningKey: commerceGasFeeSigningKey
    adminPassword: adminPassword
    razorpayKeySecret: razorpayKeySecret
    stripeSecretKey: stripeSecretKey
    razorpayWebhookSecret: razorpayWebhookSecret
    razorpayPayoutAccountNumber: razorpayPayoutAccountNumber
    stripeWebhookSecret: stripeWebhookSecret
    resendApiKey: resendApiKey
    fcmServiceAccountJson: fcmServiceAccountJson
    checkoutMarketRatesApiKey: checkoutMarketRatesApiKey
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    principalId: identity.properties.principalId
    // Names known at compile time (not module outputs) keep what-if previews exact; dependsOn gives the order.
    storageAccountName: names.storageAccount
    keyVaultName: names.keyVault
    applicationInsightsName: names.applicationInsights
  }
  dependsOn: [
    storage
    keyVault
    monitoring
  ]
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    location: location
    tags: allTags
    planName: names.plan
    functionAppName: names.functionApp
    identityId: identity.id
    identityClientId: identity.properties.clientId
    storageAccountName: names.storageAccount
    deploymentContainerName: names.deploymentContainer
    applicationInsightsName: names.applicationInsights
    keyVaultName: names.keyVault
    secretNames: secretNames
    hasRazorpayKeySecret: !empty(razorpayKeySecret)
    hasStripeSecretKey: !empty(stripeSecretKey)
    hasRazorpayWebhookSecret: !empty(razorpayWebhookSecret)
    hasRazorpayPayoutAccountNumber: !empty(razorpayPayoutAccountNumber)
    hasStripeWebhookSecret: !empty(stripeWebhookSecret)
    paymentsGateway: paymentsGateway
    razorpayKeyId: razorpayKeyId
    hasResendApiKey: !empty(resendApiKey)
    hasFcmServiceAccountJson: !empty(fcmServiceAccountJson)
    fcmProjectId: fcmProjectId
    checkoutMarketRatesUrl: checkoutMarketRatesUrl
    hasCheckoutMarketRatesApiKey: !empty(checkoutMarketRatesApiKey)
    corsAllowedOrigins: corsAllowedOrigins
    publicBaseUrl: publicBaseUrl
    adminEmail: adminEmail
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    additionalAppSettings: additionalAppSettings
  }
  // Storage, Key Vault references and telemetry all fail at first start unless the identity already holds its roles.
  dependsOn: [
    roles
  ]
}

output functionAppName string = functionApp.outputs.functionAppName
output functionAppDefaultHostName string = functionApp.outputs.defaultHostName
output publicBaseUrl string = functionApp.outputs.publicBaseUrl
output storageAccountName string = storage.outputs.storageAccountName
output keyVaultName string = keyVault.outputs.keyVaultName
output applicationInsightsName string = monitoring.outputs.applicationInsightsName
output identityClientId string = identity.properties.clientId
