// The app's own minimum: TypeScript, CSS and an HTML page. Nothing here is for progress-hub-client.
const HtmlWebpackPlugin = require('html-webpack-plugin');

module.exports = {
  entry: './src/main.tsx',
  resolve: { extensions: ['.tsx', '.ts', '.js'] },
  module: {
    rules: [{ test: /\.tsx?$/, loader: 'ts-loader', options: { transpileOnly: true } }],
  },
  experiments: { css: true },
  plugins: [new HtmlWebpackPlugin({ template: './index.html' })],
};
