// Key Vault holding the app's secrets; the app settings point at them with Key Vault references.

@description('Azure region of the resources.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Key Vault name: 3-24 letters, digits and hyphens, unique in Azure.')
@minLength(3)
@maxLength(24)
param keyVaultName string

@description('Days a deleted vault or secret can still be recovered.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('Secret names in the vault, keyed by role (see main.bicep).')
param secretNames object

@description('HS256 key that signs the app\'s JWTs.')
@secure()
param jwtSigningKey string

@description('Key that signs commerce gas fee quotes.')
@secure()
param commerceGasFeeSigningKey string

@description('Password of the first admin account.')
@secure()
param adminPassword string

@description('Razorpay key secret; no secret is created when empty.')
@secure()
param razorpayKeySecret string = ''

@description('Stripe secret key; no secret is created when empty.')
@secure()
param stripeSecretKey string = ''

@description('Razorpay webhook secret (signs the webhooks Razorpay sends); no secret is created when empty.')
@secure()
param razorpayWebhookSecret string = ''

@description('RazorpayX account number payouts are made from; no secret is created when empty.')
@secure()
param razorpayPayoutAccountNumber string = ''

@description('Stripe webhook signing secret (whsec_...); no secret is created when empty.')
@secure()
param stripeWebhookSecret string = ''

@description('Resend API key; no secret is created when empty.')
@secure()
param resendApiKey string = ''

@description('Firebase service account JSON key (FCM push); no secret is created when empty.')
@secure()
param fcmServiceAccountJson string = ''

@description('Key of the checkout\'s market rate feed; no secret is created when empty.')
@secure()
param checkoutMarketRatesApiKey string = ''

resource keyVault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    // Access is granted with Azure roles (Key Vault Secrets User), not with vault access policies.
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // A deleted secret cannot be purged before its retention ends, so a slip cannot destroy the signing key.
    enablePurgeProtection: true
    // The app runs without a virtual network and resolves its references over the public endpoint.
    publicNetworkAccess: 'Enabled'
  }
}

resource jwtSigningKeySecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: keyVault
  name: secretNames.jwtSigningKey
  properties: {
    value: jwtSigningKey
    contentType: 'text/plain'
  }
}

resource commerceGasFeeSigningKeySecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: keyVault
  name: secretNames.commerceGasFeeSigningKey
  properties: {
    value: commerceGasFeeSigningKey
    contentType: 'text/plain'
  }
}

resource adminPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: keyVault
  name: secretNames.adminPassword
  properties: {
    value: adminPassword
    contentType: 'text/plain'
  }
}

// Provider secrets are optional: a deployment without a provider keeps the vault free of placeholder values.
resource razorpayKeySecretSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(razorpayKeySecret)) {
  parent: keyVault
  name: secretNames.razorpayKeySecret
  properties: {
    value: razorpayKeySecret
    contentType: 'text/plain'
  }
}

resource stripeSecretKeySecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(stripeSecretKey)) {
  parent: keyVault
  name: secretNames.stripeSecretKey
  properties: {
    value: stripeSecretKey
    contentType: 'text/plain'
  }
}

resource razorpayWebhookSecretSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(razorpayWebhookSecret)) {
  parent: keyVault
  name: secretNames.razorpayWebhookSecret
  properties: {
    value: razorpayWebhookSecret
    contentType: 'text/plain'
  }
}

resource razorpayPayoutAccountNumberSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(razorpayPayoutAccountNumber)) {
  parent: keyVault
  name: secretNames.razorpayPayoutAccountNumber
  properties: {
    value: razorpayPayoutAccountNumber
    contentType: 'text/plain'
  }
}

resource stripeWebhookSecretSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(stripeWebhookSecret)) {
  parent: keyVault
  name: secretNames.stripeWebhookSecret
  properties: {
    value: stripeWebhookSecret
    contentType: 'text/plain'
  }
}

resource resendApiKeySecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(resendApiKey)) {
  parent: keyVault
  name: secretNames.resendApiKey
  properties: {
    value: resendApiKey
    contentType: 'text/plain'
  }
}

resource fcmServiceAccountJsonSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(fcmServiceAccountJson)) {
  parent: keyVault
  name: secretNames.fcmServiceAccountJson
  properties: {
    value: fcmServiceAccountJson
    contentType: 'application/json'
  }
}

resource checkoutMarketRatesApiKeySecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(checkoutMarketRatesApiKey)) {
  parent: keyVault
  name: secretNames.checkoutMarketRatesApiKey
  properties: {
    value: checkoutMarketRatesApiKey
    contentType: 'text/plain'
  }
}

output keyVaultName string = keyVault.name
