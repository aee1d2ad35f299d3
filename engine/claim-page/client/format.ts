// Amounts and times in the customer's language: shared with the till's screens (contract/intl-format.ts).
export { formatMoney, formatTime, formattingLocale } from '../../../contract/intl-format.ts';
